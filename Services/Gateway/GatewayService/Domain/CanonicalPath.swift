/// The one spelling of a request path the gateway accepts.
///
/// The router drops empty segments, so `//v1/auth/login`, `/v1//auth/login` and
/// `/v1/auth/login/` all reach the login route; anything that decides by path (rate
/// limits, logs, metrics) would see a different string for the same route. Such paths are
/// refused before any of that runs: a path is canonical when every segment is non-empty,
/// is not `.` or `..`, and holds only unreserved characters (RFC 3986: letters, digits,
/// `-`, `.`, `_`, `~`), so no percent-encoding (`%2F`) can hide a separator.
enum CanonicalPath {
    /// Nil when `path` is canonical; otherwise the form the client should use (which may not
    /// exist either).
    static func correction(of path: String) -> String? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        // "/a/b" splits into "", "a", "b": a leading empty segment, then real ones.
        let isCanonical =
            path == "/"
            || (segments.first == "" && segments.count > 1
                && segments.dropFirst().allSatisfy { segment in
                    !segment.isEmpty && segment != "." && segment != ".."
                        && segment.utf8.allSatisfy(Self.isUnreserved)
                })
        guard !isCanonical else { return nil }
        let kept = segments.filter { !$0.isEmpty && $0 != "." && $0 != ".." }
        return "/" + kept.joined(separator: "/")
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: "~"):
            true
        default: false
        }
    }
}
