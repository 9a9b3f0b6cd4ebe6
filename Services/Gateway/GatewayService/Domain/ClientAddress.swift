import Contracts
import Foundation

// Who is the client? Behind an ingress every request comes from the ingress's address, so
// per-address rate limits would put all clients into one bucket. The proxies we trust
// tell us the address they saw in a forwarding header; everything else in those headers
// (and the headers themselves, when no trusted proxy sent the request) comes from the
// client and may be made up. Pure parsing and rules only: no HTTP types, no I/O.

// MARK: - IP addresses

/// An IPv4 or IPv6 address, parsed strictly from its text.
///
/// All 128 bits are kept; an IPv4 address is stored as its IPv4-mapped IPv6 form
/// (`::ffff:a.b.c.d`), so `1.2.3.4` and `::ffff:1.2.3.4` are the same value — a dual-stack
/// socket reports IPv4 clients in the mapped form, and they must not get a second bucket.
///
/// Accepted: dotted quads (`192.0.2.1`, no leading zeros in an octet: `010.0.0.1` is
/// ambiguous — octal to some parsers — and refused) and every RFC 4291 text form of IPv6
/// (`2001:db8::1`, `::`, `::1`, leading zeros inside a group, upper case, a trailing dotted
/// quad as in `::ffff:192.0.2.1` or `64:ff9b::192.0.2.1`). Refused: whitespace, brackets,
/// ports, and zone ids (`fe80::1%eth0`): a zone only scopes a link-local address on one
/// host, a socket peer as the gateway reads it never carries one, and in a forwarding
/// header it could only serve to make one address look like many.
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    /// The first and last 64 bits, most significant first.
    let high: UInt64
    let low: UInt64

    /// The longest text form: `ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255`. Anything
    /// longer is refused before it is looked at.
    public static let maximumTextLength = 45

    /// The `ffff` of the IPv4-mapped prefix `::ffff:0:0/96`, as the upper half of `low`.
    private static let mappedMarker: UInt64 = 0xffff

    init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    init(ipv4 value: UInt32) {
        self.init(high: 0, low: Self.mappedMarker << 32 | UInt64(value))
    }

    /// Nil unless `text` is exactly one address (see the type's documentation).
    public init?(_ text: some StringProtocol) {
        // Bounded before it is copied: the text may be a header value of any length.
        guard text.utf8.count <= Self.maximumTextLength else { return nil }
        self.init(utf8: Array(text.utf8)[...])
    }

    init?(utf8 bytes: ArraySlice<UInt8>) {
        guard !bytes.isEmpty, bytes.count <= Self.maximumTextLength else { return nil }
        if bytes.contains(ASCII.colon) {
            guard let (high, low) = Self.parseIPv6(bytes) else { return nil }
            self.init(high: high, low: low)
        } else {
            guard let value = Self.parseIPv4(bytes) else { return nil }
            self.init(ipv4: value)
        }
    }

    /// True for IPv4 addresses, however they were written.
    public var isIPv4: Bool { high == 0 && low >> 32 == Self.mappedMarker }

    /// The 32 bits of an IPv4 address, nil for IPv6.
    var ipv4Value: UInt32? { isIPv4 ? UInt32(truncatingIfNeeded: low) : nil }

    /// The eight 16-bit groups of the 128-bit form.
    var groups: [UInt16] {
        (0..<8).map { index in
            let word = index < 4 ? high : low
            return UInt16(truncatingIfNeeded: word >> (UInt64(3 - index % 4) * 16))
        }
    }

    /// Dotted quad for IPv4; RFC 5952 form for IPv6 (lower case, no leading zeros, the
    /// longest run of two or more zero groups — the first of equals — shortened to `::`).
    public var description: String {
        if let value = ipv4Value {
            return [24, 16, 8, 0].map { String((value >> $0) & 0xff) }.joined(separator: ".")
        }
        let groups = groups
        var longestRun: Range<Int>?
        var index = 0
        while index < groups.count {
            guard groups[index] == 0 else {
                index += 1
                continue
            }
            let start = index
            while index < groups.count, groups[index] == 0 { index += 1 }
            if index - start >= 2, index - start > (longestRun?.count ?? 0) { longestRun = start..<index }
        }
        let hex = { (slice: ArraySlice<UInt16>) in slice.map { String($0, radix: 16) }.joined(separator: ":") }
        guard let run = longestRun else { return hex(groups[...]) }
        return hex(groups[..<run.lowerBound]) + "::" + hex(groups[run.upperBound...])
    }

    // MARK: Parsing

    /// `a.b.c.d`, four decimal octets of 0 to 255 without leading zeros.
    static func parseIPv4(_ bytes: ArraySlice<UInt8>) -> UInt32? {
        let octets = bytes.split(separator: ASCII.dot, omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var value: UInt32 = 0
        for octet in octets {
            guard (1...3).contains(octet.count), octet.allSatisfy(ASCII.isDigit),
                octet.count == 1 || octet.first != ASCII.zero
            else { return nil }
            let number = octet.reduce(UInt32(0)) { $0 * 10 + UInt32($1 - ASCII.zero) }
            guard number <= 255 else { return nil }
            value = value << 8 | number
        }
        return value
    }

    /// RFC 4291 section 2.2: eight groups of one to four hex digits, at most one `::`
    /// standing for one or more zero groups, and optionally a dotted quad as the last 32
    /// bits.
    static func parseIPv6(_ bytes: ArraySlice<UInt8>) -> (UInt64, UInt64)? {
        var head = bytes[...]
        var tail: ArraySlice<UInt8>?
        if let gap = firstDoubleColon(in: bytes) {
            head = bytes[..<gap]
            let rest = bytes[(gap + 2)...]
            // A second `::`, or `:::`, is ambiguous or malformed.
            guard rest.first != ASCII.colon, firstDoubleColon(in: rest) == nil else { return nil }
            tail = rest
        }
        // Only the very last piece of the text may be a dotted quad.
        guard let headGroups = parseGroups(head, quadAllowedAtEnd: tail == nil) else { return nil }
        let groups: [UInt16]
        if let tail {
            // `::` stands for at least one zero group.
            guard let tailGroups = parseGroups(tail, quadAllowedAtEnd: true),
                headGroups.count + tailGroups.count <= 7
            else { return nil }
            groups = headGroups + Array(repeating: 0, count: 8 - headGroups.count - tailGroups.count) + tailGroups
        } else {
            guard headGroups.count == 8 else { return nil }
            groups = headGroups
        }
        let pack = { (slice: ArraySlice<UInt16>) in slice.reduce(UInt64(0)) { $0 << 16 | UInt64($1) } }
        return (pack(groups[0..<4]), pack(groups[4..<8]))
    }

    /// The groups of one side of a `::` (or of a whole address without one); an empty side
    /// has none. Empty groups (`1:`, `:1`, `1::2:`) are refused.
    private static func parseGroups(_ bytes: ArraySlice<UInt8>, quadAllowedAtEnd: Bool) -> [UInt16]? {
        guard !bytes.isEmpty else { return [] }
        let pieces = bytes.split(separator: ASCII.colon, omittingEmptySubsequences: false)
        var groups: [UInt16] = []
        for (position, piece) in pieces.enumerated() {
            if quadAllowedAtEnd, position == pieces.count - 1, piece.contains(ASCII.dot) {
                guard let quad = parseIPv4(piece) else { return nil }
                groups += [UInt16(truncatingIfNeeded: quad >> 16), UInt16(truncatingIfNeeded: quad)]
                continue
            }
            guard (1...4).contains(piece.count), let group = UInt16(hex: piece) else { return nil }
            groups.append(group)
        }
        return groups
    }

    private static func firstDoubleColon(in bytes: ArraySlice<UInt8>) -> Int? {
        var index = bytes.startIndex
        while index + 1 < bytes.endIndex {
            if bytes[index] == ASCII.colon, bytes[index + 1] == ASCII.colon { return index }
            index += 1
        }
        return nil
    }
}

/// The rate-limit key of a client address: an IPv4 address stands for itself
/// (`ip:192.0.2.1`); an IPv6 address stands for its /64 (`ip6:2001:db8:1:2::/64`), because
/// one subscriber usually holds a whole /64 and could otherwise use a fresh address for
/// every request.
public func rateLimitKey(for address: IPAddress) -> String {
    guard !address.isIPv4 else { return "ip:\(address)" }
    return "ip6:\(IPAddress(high: address.high, low: 0))/64"
}

// MARK: - Address blocks

/// A block of addresses: `10.0.0.0/8`, `2001:db8::/32`, or a bare address meaning just
/// itself (`/32` or `/128`).
///
/// A block matches addresses of its own family only: `::/0` means every IPv6 address, not
/// every IPv4 one too (even though IPv4 addresses are kept in their mapped IPv6 form). An
/// IPv4-mapped block written in IPv6 (`::ffff:10.0.0.0/104`) is the IPv4 block
/// `10.0.0.0/8`. Host bits after the prefix must be zero (`10.1.0.0/8` is refused): it is
/// most likely a typo for a narrower block, and trusting a wider one than meant is the
/// worse mistake.
public struct CIDR: Hashable, Sendable, CustomStringConvertible {
    /// The first address of the block.
    public let network: IPAddress
    /// In the family's own terms: 0 to 32 for IPv4, 0 to 128 for IPv6.
    public let prefixLength: Int

    public enum ParseError: Error, Hashable, Sendable, CustomStringConvertible {
        case invalidAddress
        case invalidPrefixLength
        /// The bits after the prefix are not all zero; `network` is the block that was
        /// probably meant.
        case hostBitsSet(network: String)

        public var description: String {
            switch self {
            case .invalidAddress: "is not an IPv4 or IPv6 address"
            case .invalidPrefixLength: "has a prefix length that is not 0–32 (IPv4) or 0–128 (IPv6)"
            case .hostBitsSet(let network): "has bits set after the prefix (did you mean \(network)?)"
            }
        }
    }

    /// Nil when `text` is not a block; `parse` says why.
    public init?(_ text: String) {
        guard case .success(let block) = Self.parse(text) else { return nil }
        self = block
    }

    public static func parse(_ text: String) -> Result<CIDR, ParseError> {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let addressText = parts.first, let address = IPAddress(addressText) else {
            return .failure(.invalidAddress)
        }
        let writtenAsIPv6 = addressText.contains(":")
        let writtenLength = writtenAsIPv6 ? 128 : 32
        var prefixLength = writtenLength
        if parts.count == 2 {
            let digits = parts[1].utf8
            guard (1...3).contains(digits.count), digits.allSatisfy(ASCII.isDigit),
                digits.count == 1 || digits.first != ASCII.zero, let length = Int(parts[1]),
                length <= writtenLength
            else { return .failure(.invalidPrefixLength) }
            prefixLength = length
        }
        // The 128-bit prefix an IPv4 block covers inside the mapped range.
        if address.isIPv4, writtenAsIPv6 {
            guard prefixLength >= 96 else { return .failure(.invalidPrefixLength) }
            prefixLength -= 96
        }
        let block = CIDR(network: address, prefixLength: prefixLength)
        let masked = block.masked(address)
        guard masked == address else {
            return .failure(.hostBitsSet(network: CIDR(network: masked, prefixLength: prefixLength).description))
        }
        return .success(block)
    }

    private init(network: IPAddress, prefixLength: Int) {
        self.network = network
        self.prefixLength = prefixLength
    }

    public func contains(_ address: IPAddress) -> Bool {
        address.isIPv4 == network.isIPv4 && masked(address) == network
    }

    /// `address` with every bit after this block's prefix cleared.
    private func masked(_ address: IPAddress) -> IPAddress {
        // Over all 128 bits: an IPv4 prefix sits behind the 96 bits of the mapped marker.
        let bits = network.isIPv4 ? 96 + prefixLength : prefixLength
        let highMask: UInt64 = bits >= 64 ? .max : (bits == 0 ? 0 : .max << (64 - bits))
        let lowMask: UInt64 = bits <= 64 ? 0 : (bits == 128 ? .max : .max << (128 - bits))
        return IPAddress(high: address.high & highMask, low: address.low & lowMask)
    }

    public var description: String { "\(network)/\(prefixLength)" }
}

// MARK: - Trusted proxies

/// The proxies (`KINDRED_TRUSTED_PROXIES`) whose forwarding headers are believed, and the
/// rule that finds the client address behind them.
public struct TrustedProxies: Sendable {
    /// Which header the trusted proxies write. It must be chosen to match the ingress, not
    /// guessed from the request: a proxy passes on the headers it does not write itself,
    /// so a client behind an ingress that only appends `X-Forwarded-For` (ingress-nginx,
    /// Traefik, Envoy by default) writes the whole `Forwarded` header — reading that one
    /// would let every request pick its own address, and bucket.
    public enum Header: String, Hashable, Sendable {
        /// `X-Forwarded-For`, the header ingress controllers write by default.
        case xForwardedFor
        /// RFC 7239 `Forwarded`, `for=` parameters only.
        case forwarded
        /// `Forwarded` when the request has one, else `X-Forwarded-For`. Safe only when
        /// every trusted proxy writes `Forwarded` (or strips the clients' ones).
        case forwardedElseXForwardedFor
    }

    public let blocks: [CIDR]
    public let header: Header

    /// At most this many hops are walked, right to left; proxy chains are a few hops long.
    public static let maximumHops = 32
    /// At most this many bytes of a header's lines are read, from the right end; the hops
    /// that matter are the ones the trusted proxies appended, at the right.
    public static let maximumHeaderBytes = 8 * 1024

    /// Trusts no proxy: the socket peer is the client.
    public static let empty = TrustedProxies(blocks: [])

    public init(blocks: [CIDR], header: Header = .xForwardedFor) {
        self.blocks = blocks
        self.header = header
    }

    public struct ParseError: Error, Hashable, Sendable, CustomStringConvertible {
        /// The entry as written (trimmed).
        public let entry: String
        public let reason: CIDR.ParseError?

        public var description: String {
            guard let reason else { return "KINDRED_TRUSTED_PROXIES has an empty entry (a stray comma?)" }
            return "KINDRED_TRUSTED_PROXIES entry '\(entry)' \(reason)"
        }
    }

    /// A comma-separated list of addresses and blocks (`10.0.0.0/8, 2001:db8::/32,
    /// 192.0.2.7`), whitespace around entries allowed. Empty or blank text trusts no
    /// proxy; an empty entry inside a list is refused, since it is most likely a typo.
    public static func parse(_ text: String, header: Header = .xForwardedFor) -> Result<TrustedProxies, ParseError> {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { return .success(TrustedProxies(blocks: [], header: header)) }
        var blocks: [CIDR] = []
        for piece in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
            let entry = piece.trimmingCharacters(in: .whitespaces)
            guard !entry.isEmpty else { return .failure(ParseError(entry: entry, reason: nil)) }
            switch CIDR.parse(entry) {
            case .success(let block): blocks.append(block)
            case .failure(let reason): return .failure(ParseError(entry: entry, reason: reason))
            }
        }
        return .success(TrustedProxies(blocks: blocks, header: header))
    }

    public func trusts(_ address: IPAddress) -> Bool {
        blocks.contains { $0.contains(address) }
    }

    /// The client address of a request.
    ///
    /// - `peer`: the socket peer's address text; nil when it is not an address (`unknown`),
    ///   and the caller keeps its own fallback.
    /// - `forwardedFor`, `forwarded`: every line of the `X-Forwarded-For` and `Forwarded`
    ///   headers, in the order received. Read only when the peer is a trusted proxy.
    ///
    /// Each proxy appends the address it saw on the right, so the hops are walked from the
    /// right, starting behind the peer: trusted proxies are skipped, and the first hop that
    /// is not one is the client — a client that prepends made-up hops only adds entries to
    /// the left of it. If every hop walked is trusted (or `maximumHops` are), the leftmost
    /// walked is the answer. A hop that is not an address — garbage, a cut-off entry, or an
    /// obfuscated or `unknown` `Forwarded` node — stops the walk at the last address walked,
    /// which is a trusted proxy (or the peer): text that does not parse is never treated as
    /// an address, and the clients such a proxy cannot name share its bucket.
    public func clientAddress(peer: String, forwardedFor: [String], forwarded: [String]) -> IPAddress? {
        guard let peerAddress = IPAddress(peer) else { return nil }
        guard trusts(peerAddress) else { return peerAddress }
        let hops: [IPAddress?]
        switch header {
        case .xForwardedFor:
            hops = Self.xForwardedForHops(forwardedFor)
        case .forwarded:
            hops = Self.forwardedHops(forwarded)
        case .forwardedElseXForwardedFor:
            let hasForwarded = forwarded.contains { line in line.contains { $0 != " " && $0 != "\t" } }
            hops = hasForwarded ? Self.forwardedHops(forwarded) : Self.xForwardedForHops(forwardedFor)
        }
        var nearest = peerAddress
        for hop in hops {
            guard let address = hop else { return nearest }
            guard trusts(address) else { return address }
            nearest = address
        }
        return nearest
    }

    // MARK: Header lists

    /// The hops of an `X-Forwarded-For` header, rightmost first (see `hops(in:quotesAllowed:parse:)`).
    static func xForwardedForHops(_ lines: [String]) -> [IPAddress?] {
        hops(in: lines, quotesAllowed: false, parse: parseNode)
    }

    /// The hops of a `Forwarded` header, rightmost first (see `hops(in:quotesAllowed:parse:)`).
    static func forwardedHops(_ lines: [String]) -> [IPAddress?] {
        hops(in: lines, quotesAllowed: true, parse: parseForwardedElement)
    }

    /// The hops of a header, rightmost first: at most `maximumHops`, from at most
    /// `maximumHeaderBytes` at the right end of its lines. Nil stands for a hop that is not
    /// an address (or was cut off by the byte bound); nothing after it is returned.
    ///
    /// Elements are split on commas, outside quoted strings where the header has them
    /// (`Forwarded`; in `X-Forwarded-For` a quote simply fails to parse). Each line is
    /// split on its own: a quote left open by a client cannot swallow a line a proxy added.
    /// Empty elements are skipped (RFC 9110, section 5.6.1).
    private static func hops(
        in lines: [String], quotesAllowed: Bool, parse: (ArraySlice<UInt8>) -> IPAddress?
    ) -> [IPAddress?] {
        var hops: [IPAddress?] = []
        var budget = maximumHeaderBytes
        for line in lines.reversed() {
            // A line of a million separators costs its length, like any other.
            guard budget > 0 else { return hops + [nil] }
            let utf8 = line.utf8
            let bytes = Array(utf8.suffix(budget))
            let isCut = bytes.count < utf8.count
            budget -= bytes.count + 1
            var end = bytes.endIndex
            var index = bytes.endIndex
            var inQuotes = false
            while index > bytes.startIndex {
                index -= 1
                let byte = bytes[index]
                if quotesAllowed, byte == ASCII.quote, !isEscaped(bytes, at: index) {
                    inQuotes.toggle()
                } else if byte == ASCII.comma, !inQuotes {
                    let element = trimmed(bytes[(index + 1)..<end])
                    end = index
                    guard !element.isEmpty else { continue }
                    let hop = parse(element)
                    hops.append(hop)
                    if hop == nil || hops.count == maximumHops { return hops }
                }
            }
            // The first element of a cut line is only the tail of one.
            guard !isCut else { return hops + [nil] }
            let element = trimmed(bytes[..<end])
            guard !element.isEmpty else { continue }
            let hop = parse(element)
            hops.append(hop)
            if hop == nil || hops.count == maximumHops { return hops }
        }
        return hops
    }

    /// A quote preceded by an odd number of backslashes is part of a quoted pair (`\"`).
    private static func isEscaped(_ bytes: [UInt8], at index: Int) -> Bool {
        var backslashes = 0
        var position = index
        while position > bytes.startIndex, bytes[position - 1] == ASCII.backslash {
            backslashes += 1
            position -= 1
        }
        return backslashes % 2 == 1
    }

    /// Without optional whitespace (spaces and tabs) at either end.
    private static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        let isSpace = { (byte: UInt8) in byte == ASCII.space || byte == ASCII.tab }
        guard let first = bytes.firstIndex(where: { !isSpace($0) }), let last = bytes.lastIndex(where: { !isSpace($0) })
        else { return [] }
        return bytes[first...last]
    }

    /// The address of one `Forwarded` element (`for=192.0.2.60;proto=https;by=10.0.0.1`):
    /// its single `for` parameter (names are case-insensitive), quoted or not. An element
    /// without `for`, or with two, names no client.
    static func parseForwardedElement(_ element: ArraySlice<UInt8>) -> IPAddress? {
        var forValue: [UInt8]?
        var index = element.startIndex
        while index < element.endIndex {
            // One pair, up to the next `;` outside quotes.
            var pairEnd = index
            var inQuotes = false
            while pairEnd < element.endIndex {
                let byte = element[pairEnd]
                if inQuotes, byte == ASCII.backslash {
                    pairEnd += 2
                    continue
                }
                if byte == ASCII.quote { inQuotes.toggle() }
                if byte == ASCII.semicolon, !inQuotes { break }
                pairEnd += 1
            }
            guard !inQuotes, pairEnd <= element.endIndex else { return nil }
            let pair = trimmed(element[index..<pairEnd])
            index = pairEnd + 1
            guard !pair.isEmpty else { continue }
            guard let equals = pair.firstIndex(of: ASCII.equals) else { return nil }
            let name = pair[..<equals]
            guard name.count == 3, name.map(ASCII.lowercased).elementsEqual("for".utf8) else { continue }
            guard forValue == nil, let value = unquoted(pair[(equals + 1)...]) else { return nil }
            forValue = value
        }
        guard let forValue else { return nil }
        return parseNode(forValue[...])
    }

    /// A parameter value: a token, or a quoted string with its quoted pairs resolved.
    private static func unquoted(_ value: ArraySlice<UInt8>) -> [UInt8]? {
        guard value.first == ASCII.quote else {
            let isAllowed = { (byte: UInt8) in byte > ASCII.space && byte < 0x7f && byte != ASCII.quote }
            return !value.isEmpty && value.allSatisfy(isAllowed) ? Array(value) : nil
        }
        guard value.count >= 2, value.last == ASCII.quote else { return nil }
        var result: [UInt8] = []
        var index = value.startIndex + 1
        let closing = value.endIndex - 1
        while index < closing {
            var byte = value[index]
            if byte == ASCII.backslash {
                index += 1
                guard index < closing else { return nil }
                byte = value[index]
            } else if byte == ASCII.quote {
                return nil
            }
            result.append(byte)
            index += 1
        }
        return result
    }

    /// A node as proxies write it: `192.0.2.60`, `192.0.2.60:4711`, `2001:db8::1`,
    /// `[2001:db8::1]`, `[2001:db8::1]:4711` (a port may also be obfuscated: `:_p1`). The
    /// RFC 7239 identifiers `unknown` and `_hidden` are not addresses and give nil.
    static func parseNode(_ node: ArraySlice<UInt8>) -> IPAddress? {
        if node.first == ASCII.openBracket {
            guard let close = node.firstIndex(of: ASCII.closeBracket) else { return nil }
            let inside = node[(node.startIndex + 1)..<close]
            let rest = node[(close + 1)...]
            guard inside.contains(ASCII.colon), rest.isEmpty || isPort(rest) else { return nil }
            return IPAddress(utf8: inside)
        }
        let colons = node.filter { $0 == ASCII.colon }.count
        if colons == 1, let colon = node.firstIndex(of: ASCII.colon) {
            let host = node[..<colon]
            guard isPort(node[colon...]), let value = IPAddress.parseIPv4(host) else { return nil }
            return IPAddress(ipv4: value)
        }
        return IPAddress(utf8: node)
    }

    /// `:` and 1 to 65535 in at most five digits, or an obfuscated port (`:_` and letters,
    /// digits, `.`, `_`, `-`).
    private static func isPort(_ text: ArraySlice<UInt8>) -> Bool {
        guard text.first == ASCII.colon else { return false }
        let port = text.dropFirst()
        if port.first == ASCII.underscore {
            return port.count > 1 && port.count <= 64 && port.allSatisfy(ASCII.isObfuscatedCharacter)
        }
        guard (1...5).contains(port.count), port.allSatisfy(ASCII.isDigit) else { return false }
        let number = port.reduce(0) { $0 * 10 + Int($1 - ASCII.zero) }
        return (1...65535).contains(number)
    }
}

// MARK: - Bytes

/// The ASCII bytes the parsers above look for.
private enum ASCII {
    static let tab = UInt8(ascii: "\t")
    static let space = UInt8(ascii: " ")
    static let quote = UInt8(ascii: "\"")
    static let comma = UInt8(ascii: ",")
    static let dot = UInt8(ascii: ".")
    static let zero = UInt8(ascii: "0")
    static let colon = UInt8(ascii: ":")
    static let semicolon = UInt8(ascii: ";")
    static let equals = UInt8(ascii: "=")
    static let openBracket = UInt8(ascii: "[")
    static let backslash = UInt8(ascii: "\\")
    static let closeBracket = UInt8(ascii: "]")
    static let underscore = UInt8(ascii: "_")

    static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }

    static func hexValue(_ byte: UInt8) -> UInt8? { Hex.value(of: byte) }

    static func lowercased(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte + 32 : byte
    }

    static func isObfuscatedCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
            true
        default: false
        }
    }
}

extension UInt16 {
    /// One to four hex digits, either case.
    fileprivate init?(hex digits: ArraySlice<UInt8>) {
        var value: UInt16 = 0
        for digit in digits {
            guard let nibble = ASCII.hexValue(digit) else { return nil }
            value = value << 4 | UInt16(nibble)
        }
        self = value
    }
}
