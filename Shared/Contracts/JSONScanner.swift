/// Finds a member of a JSON object without building the document: a strict RFC 8259
/// scanner over the bytes that checks every value it passes and says where the member's
/// value starts and ends, so the bytes can be passed on as they are.
///
/// For the hot paths that only carry part of an envelope along (the gateway's live
/// events take `data` as it came). Whatever it cannot answer exactly (an escaped key, a
/// key given twice) it reports as `unsupported`, and the caller decodes the slow way.
package enum JSONScanner {
    package enum Member: Equatable {
        /// The value's bytes, from its first byte to its last.
        case found(Range<Int>)
        /// The document is an object without that member.
        case absent
        /// The document is not a single JSON object.
        case malformed
        /// The member's key is written with escapes somewhere, or given twice.
        case unsupported
    }

    /// Nesting deeper than this is refused (malformed): a hostile document must not cost
    /// more than its length.
    package static let maxDepth = 64

    /// The value of the top-level member `key` of the object in `bytes`.
    package static func member(_ key: String, in bytes: [UInt8]) -> Member {
        let wanted = Array(key.utf8)
        return bytes.withUnsafeBufferPointer { buffer in
            var cursor = Cursor(bytes: buffer)
            do {
                return try cursor.member(wanted)
            } catch {
                return .malformed
            }
        }
    }

    /// The members of the object in `bytes`, in order: each key's bytes (without quotes)
    /// and its value's bytes; nil if the document is not a single JSON object, or if a
    /// key is written with escapes (which only the slow path reads exactly).
    package static func members(in bytes: [UInt8]) -> [(key: Range<Int>, value: Range<Int>)]? {
        bytes.withUnsafeBufferPointer { buffer in
            var cursor = Cursor(bytes: buffer)
            return try? cursor.members()
        }
    }

    private struct Malformed: Error {}

    private struct Cursor {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        mutating func member(_ wanted: [UInt8]) throws(Malformed) -> Member {
            var found: Range<Int>?
            var unsupported = false
            let bytes = bytes
            try object { key, escaped, value in
                if escaped {
                    unsupported = true
                } else if bytes[key].elementsEqual(wanted) {
                    if found != nil { unsupported = true }
                    found = value
                }
            }
            if unsupported { return .unsupported }
            return found.map { .found($0) } ?? .absent
        }

        mutating func members() throws(Malformed) -> [(key: Range<Int>, value: Range<Int>)]? {
            var members: [(key: Range<Int>, value: Range<Int>)] = []
            var escapedKey = false
            try object { key, escaped, value in
                escapedKey = escapedKey || escaped
                members.append((key, value))
            }
            return escapedKey ? nil : members
        }

        /// The whole document, which must be one object: `visit` gets each top-level
        /// member's key (and whether it has escapes) and value ranges.
        mutating func object(_ visit: (Range<Int>, Bool, Range<Int>) -> Void) throws(Malformed) {
            skipWhitespace()
            try expect(UInt8(ascii: "{"))
            skipWhitespace()
            if peek() == UInt8(ascii: "}") {
                index += 1
            } else {
                while true {
                    skipWhitespace()
                    let (key, escaped) = try string()
                    skipWhitespace()
                    try expect(UInt8(ascii: ":"))
                    skipWhitespace()
                    let start = index
                    try value(depth: 1)
                    visit(key, escaped, start..<index)
                    skipWhitespace()
                    let next = try take()
                    if next == UInt8(ascii: "}") { break }
                    guard next == UInt8(ascii: ",") else { throw Malformed() }
                }
            }
            skipWhitespace()
            guard index == bytes.count else { throw Malformed() }
        }

        func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func take() throws(Malformed) -> UInt8 {
            guard index < bytes.count else { throw Malformed() }
            defer { index += 1 }
            return bytes[index]
        }

        mutating func expect(_ byte: UInt8) throws(Malformed) {
            guard try take() == byte else { throw Malformed() }
        }

        mutating func skipWhitespace() {
            while let byte = peek(), byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { index += 1 }
        }

        mutating func value(depth: Int) throws(Malformed) {
            guard depth <= JSONScanner.maxDepth, let first = peek() else { throw Malformed() }
            switch first {
            case UInt8(ascii: "{"): try object(depth: depth)
            case UInt8(ascii: "["): try array(depth: depth)
            case UInt8(ascii: "\""): _ = try string()
            case UInt8(ascii: "t"): try literal("true")
            case UInt8(ascii: "f"): try literal("false")
            case UInt8(ascii: "n"): try literal("null")
            default: try number()
            }
        }

        mutating func object(depth: Int) throws(Malformed) {
            index += 1
            skipWhitespace()
            if peek() == UInt8(ascii: "}") {
                index += 1
                return
            }
            while true {
                skipWhitespace()
                _ = try string()
                skipWhitespace()
                try expect(UInt8(ascii: ":"))
                skipWhitespace()
                try value(depth: depth + 1)
                skipWhitespace()
                let next = try take()
                if next == UInt8(ascii: "}") { return }
                guard next == UInt8(ascii: ",") else { throw Malformed() }
            }
        }

        mutating func array(depth: Int) throws(Malformed) {
            index += 1
            skipWhitespace()
            if peek() == UInt8(ascii: "]") {
                index += 1
                return
            }
            while true {
                skipWhitespace()
                try value(depth: depth + 1)
                skipWhitespace()
                let next = try take()
                if next == UInt8(ascii: "]") { return }
                guard next == UInt8(ascii: ",") else { throw Malformed() }
            }
        }

        /// A string: its content's range (without the quotes), and whether it has escapes.
        /// Control characters must be escaped; the UTF-8 must be valid.
        mutating func string() throws(Malformed) -> (Range<Int>, Bool) {
            try expect(UInt8(ascii: "\""))
            let start = index
            var escaped = false
            while true {
                let byte = try take()
                switch byte {
                case UInt8(ascii: "\""):
                    return (start..<(index - 1), escaped)
                case UInt8(ascii: "\\"):
                    escaped = true
                    let escape = try take()
                    switch escape {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                        UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                        break
                    case UInt8(ascii: "u"):
                        for _ in 0..<4 {
                            guard Self.isHexDigit(try take()) else { throw Malformed() }
                        }
                    default: throw Malformed()
                    }
                case 0x00..<0x20: throw Malformed()
                case 0x80...: try continueUTF8(lead: byte)
                default: break
                }
            }
        }

        /// The continuation bytes of a UTF-8 sequence whose lead byte was just taken:
        /// shortest forms only, no surrogates, nothing above U+10FFFF.
        mutating func continueUTF8(lead: UInt8) throws(Malformed) {
            let count: Int
            var lower: UInt8 = 0x80
            var upper: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: count = 1
            case 0xE0:
                count = 2
                lower = 0xA0
            case 0xED:
                count = 2
                upper = 0x9F
            case 0xE1...0xEC, 0xEE...0xEF: count = 2
            case 0xF0:
                count = 3
                lower = 0x90
            case 0xF4:
                count = 3
                upper = 0x8F
            case 0xF1...0xF3: count = 3
            default: throw Malformed()
            }
            let first = try take()
            guard first >= lower && first <= upper else { throw Malformed() }
            for _ in 0..<(count - 1) {
                let next = try take()
                guard next >= 0x80 && next <= 0xBF else { throw Malformed() }
            }
        }

        mutating func literal(_ word: StaticString) throws(Malformed) {
            let text = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
            for byte in text { try expect(byte) }
        }

        /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
        mutating func number() throws(Malformed) {
            if peek() == UInt8(ascii: "-") { index += 1 }
            let first = try take()
            if first == UInt8(ascii: "0") {
                // No leading zeros.
            } else if Self.isDigit(first) {
                skipDigits()
            } else {
                throw Malformed()
            }
            if peek() == UInt8(ascii: ".") {
                index += 1
                guard Self.isDigit(try take()) else { throw Malformed() }
                skipDigits()
            }
            if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
                index += 1
                if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { index += 1 }
                guard Self.isDigit(try take()) else { throw Malformed() }
                skipDigits()
            }
        }

        mutating func skipDigits() {
            while let byte = peek(), Self.isDigit(byte) { index += 1 }
        }

        static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

        static func isHexDigit(_ byte: UInt8) -> Bool {
            isDigit(byte) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f"))
                || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "F"))
        }
    }
}
