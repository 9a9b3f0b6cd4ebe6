import Foundation
import Testing

@testable import GatewayService

@Suite("IP addresses")
struct IPAddressTests {
    @Test(
        "dotted quads parse and print as written",
        arguments: ["0.0.0.0", "192.0.2.1", "10.0.0.255", "255.255.255.255", "1.2.3.4"])
    func ipv4(text: String) throws {
        let address = try #require(IPAddress(text))
        #expect(address.isIPv4)
        #expect(address.description == text)
    }

    @Test(
        "malformed or ambiguous IPv4 text is refused",
        arguments: [
            "", "1", "1234", "1.2.3", "1.2.3.4.5", "1.2.3.", ".1.2.3", "1..2.3", "256.0.0.1", "1.2.3.256",
            "999.1.1.1", "1.2.3.1000", "01.2.3.4", "1.2.3.04", "1.2.3.00", "0x1.2.3.4", "+1.2.3.4", "1.2.3.-4",
            " 1.2.3.4", "1.2.3.4 ", "1.2.3.4\n", "1.2.3.4\0", "1 .2.3.4", "１.2.3.4", "1.2.3.4/32", "1.2.3.4:80",
            "[1.2.3.4]", "a.b.c.d", "1.2.3.4.", "localhost", "unknown",
        ])
    func badIPv4(text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test(
        "every RFC 4291 form of IPv6 parses and prints in the RFC 5952 form",
        arguments: [
            ("::", "::"), ("::1", "::1"), ("fe80::", "fe80::"), ("2001:db8::1", "2001:db8::1"),
            ("2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"), ("2001:DB8::ABCD", "2001:db8::abcd"),
            ("1:0:0:2:0:0:0:3", "1:0:0:2::3"), ("1:0:0:2:0:0:3:4", "1::2:0:0:3:4"),
            ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"), ("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"),
            ("::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"), ("0:0:0:0:0:0:0:0", "::"), ("1::", "1::"),
            ("64:ff9b::192.0.2.1", "64:ff9b::c000:201"), ("::1.2.3.4", "::102:304"),
            ("1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"),
            ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
            ("0000:0000:0000:0000:0000:0000:255.255.255.255", "::ffff:ffff"),
        ])
    func ipv6(text: String, canonical: String) throws {
        let address = try #require(IPAddress(text))
        #expect(!address.isIPv4)
        #expect(address.description == canonical)
        #expect(IPAddress(canonical) == address, "the printed form parses back to the same address")
    }

    @Test(
        "malformed IPv6 text, zone ids and oversized input are refused",
        arguments: [
            ":", ":::", "::::", "1:::2", "1::2::3", "::1::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7",
            "1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8", "1:2:3:4::5:6:7:8", "12345::", "g::1", ":1::", "1::2:",
            "1:2:3:4:5:6:7:", ":1:2:3:4:5:6:7", "fe80::1%eth0", "fe80::1%25eth0", "fe80::%1", "[::1]", "[::1]:80",
            "::1.2.3", "::1.2.3.4:5", "1.2.3.4::", "::1.2.3.4:ffff", "::ffff:01.2.3.4", "::256.0.0.1",
            "1:2:3:4:5:6:7:1.2.3.4", " ::1", "::1 ", "2001:db8::1\t", "2001: db8::1", "2001:db8::-1", "::+1",
            "0000:0000:0000:0000:0000:0000:0000:00001", "00000:0000:0000:0000:0000:0000:255.255.255.255",
            String(repeating: "0:", count: 5000) + "1", String(repeating: "a", count: 100_000),
        ])
    func badIPv6(text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test("an IPv4-mapped IPv6 address is the IPv4 address")
    func mapped() throws {
        let plain = try #require(IPAddress("192.0.2.1"))
        for text in ["::ffff:192.0.2.1", "::FFFF:192.0.2.1", "::ffff:c000:201", "0:0:0:0:0:ffff:192.0.2.1"] {
            let mapped = try #require(IPAddress(text))
            #expect(mapped == plain, "\(text)")
            #expect(mapped.hashValue == plain.hashValue)
            #expect(mapped.isIPv4)
            #expect(mapped.description == "192.0.2.1")
        }
        #expect(IPAddress("::fffe:192.0.2.1") != plain, "only ::ffff:0:0/96 is the mapped range")
        #expect(IPAddress("::192.0.2.1") != plain, "IPv4-compatible addresses are plain IPv6")
        #expect(IPAddress("1::ffff:192.0.2.1")?.isIPv4 == false)
    }
}

@Suite("Address blocks")
struct CIDRTests {
    func address(_ text: String) throws -> IPAddress { try #require(IPAddress(text)) }

    @Test("blocks contain their own addresses, of their own family only")
    func contains() throws {
        let tenEight = try #require(CIDR("10.0.0.0/8"))
        #expect(tenEight.contains(try address("10.0.0.0")))
        #expect(tenEight.contains(try address("10.255.1.2")))
        #expect(tenEight.contains(try address("::ffff:10.1.2.3")))
        #expect(!tenEight.contains(try address("11.0.0.0")))
        #expect(!tenEight.contains(try address("9.255.255.255")))
        #expect(!tenEight.contains(try address("a00::1")), "10.0.0.0/8 says nothing about IPv6")

        let documentation = try #require(CIDR("2001:db8::/32"))
        #expect(documentation.contains(try address("2001:db8::")))
        #expect(documentation.contains(try address("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")))
        #expect(!documentation.contains(try address("2001:db9::")))
        #expect(!documentation.contains(try address("32.1.13.184")), "0x20010db8 as IPv4 is another address")

        let everyIPv4 = try #require(CIDR("0.0.0.0/0"))
        #expect(everyIPv4.contains(try address("203.0.113.9")))
        #expect(!everyIPv4.contains(try address("::1")))
        let everyIPv6 = try #require(CIDR("::/0"))
        #expect(everyIPv6.contains(try address("2001:db8::1")))
        #expect(!everyIPv6.contains(try address("1.2.3.4")))
        #expect(!everyIPv6.contains(try address("::ffff:1.2.3.4")))
    }

    @Test("prefix lengths at the edges")
    func edges() throws {
        let pair = try #require(CIDR("10.0.0.0/31"))
        #expect(pair.contains(try address("10.0.0.1")))
        #expect(!pair.contains(try address("10.0.0.2")))
        let v6Pair = try #require(CIDR("2001:db8::/127"))
        #expect(v6Pair.contains(try address("2001:db8::1")))
        #expect(!v6Pair.contains(try address("2001:db8::2")))
        let sixtyFour = try #require(CIDR("2001:db8:1:2::/64"))
        #expect(sixtyFour.contains(try address("2001:db8:1:2:ffff:ffff:ffff:ffff")))
        #expect(!sixtyFour.contains(try address("2001:db8:1:3::")))
        let sixtyFive = try #require(CIDR("2001:db8:1:2:8000::/65"))
        #expect(sixtyFive.contains(try address("2001:db8:1:2:8000::1")))
        #expect(!sixtyFive.contains(try address("2001:db8:1:2:7fff::")))
        let sixtyThree = try #require(CIDR("2001:db8:1:2::/63"))
        #expect(sixtyThree.contains(try address("2001:db8:1:3::1")))
        #expect(!sixtyThree.contains(try address("2001:db8:1:4::")))
    }

    @Test("a bare address is a block of one")
    func bare() throws {
        let one = try #require(CIDR("192.0.2.7"))
        #expect(one.prefixLength == 32)
        #expect(one.contains(try address("192.0.2.7")))
        #expect(!one.contains(try address("192.0.2.8")))
        let loopback = try #require(CIDR("::1"))
        #expect(loopback.prefixLength == 128)
        #expect(loopback.contains(try address("::1")))
        #expect(!loopback.contains(try address("::2")))
        #expect(CIDR("::ffff:192.0.2.7")?.description == "192.0.2.7/32")
    }

    @Test("an IPv4-mapped block written in IPv6 is the IPv4 block")
    func mappedBlock() throws {
        let mapped = try #require(CIDR("::ffff:10.0.0.0/104"))
        #expect(mapped == CIDR("10.0.0.0/8"))
        #expect(mapped.description == "10.0.0.0/8")
        #expect(mapped.contains(try address("10.1.2.3")))
        #expect(CIDR("::ffff:0:0/96") == CIDR("0.0.0.0/0"))
    }

    @Test(
        "malformed blocks are refused with the reason",
        arguments: [
            ("10.0.0.0/33", CIDR.ParseError.invalidPrefixLength), ("10.0.0.0/", .invalidPrefixLength),
            ("10.0.0.0/-1", .invalidPrefixLength), ("10.0.0.0/08", .invalidPrefixLength),
            ("10.0.0.0/8/8", .invalidPrefixLength), ("10.0.0.0/ 8", .invalidPrefixLength),
            ("10.0.0.0/8 ", .invalidPrefixLength), ("10.0.0.0/0x8", .invalidPrefixLength),
            ("10.0.0.0/1000", .invalidPrefixLength), ("2001:db8::/129", .invalidPrefixLength),
            ("::ffff:10.0.0.0/95", .invalidPrefixLength), ("nonsense/8", .invalidAddress), ("/8", .invalidAddress),
            ("", .invalidAddress), (" 10.0.0.0/8", .invalidAddress), ("10.0.0/8", .invalidAddress),
            ("fe80::%eth0/64", .invalidAddress), ("10.1.0.0/8", .hostBitsSet(network: "10.0.0.0/8")),
            ("192.0.2.7/24", .hostBitsSet(network: "192.0.2.0/24")),
            ("2001:db8::1/32", .hostBitsSet(network: "2001:db8::/32")),
            ("::ffff:10.1.0.0/104", .hostBitsSet(network: "10.0.0.0/8")),
            ("0.0.0.1/0", .hostBitsSet(network: "0.0.0.0/0")),
        ])
    func malformed(text: String, reason: CIDR.ParseError) {
        #expect(CIDR.parse(text) == .failure(reason))
        #expect(CIDR(text) == nil)
    }
}

@Suite("Trusted proxies")
struct TrustedProxiesTests {
    /// The ingress's network, and a v6 range of it.
    let proxies: TrustedProxies
    let ingress = "10.0.0.5"

    init() throws {
        proxies = try TrustedProxies.parse("10.0.0.0/8, 2001:db8:ffff::/48").get()
    }

    func address(_ text: String) throws -> IPAddress { try #require(IPAddress(text)) }

    func parseError(_ text: String) -> TrustedProxies.ParseError? {
        guard case .failure(let error) = TrustedProxies.parse(text) else { return nil }
        return error
    }

    // MARK: The setting

    @Test("the setting is a comma-separated list; empty trusts no proxy")
    func setting() throws {
        let list = try TrustedProxies.parse(" 10.0.0.0/8, 192.168.0.0/16 ,2001:db8::/32,192.0.2.7 ").get()
        #expect(list.blocks.map(\.description) == ["10.0.0.0/8", "192.168.0.0/16", "2001:db8::/32", "192.0.2.7/32"])
        #expect(list.header == .xForwardedFor, "the header ingress controllers write unless told otherwise")
        #expect(list.trusts(try address("192.168.4.4")))
        #expect(!list.trusts(try address("192.169.0.0")))
        for blank in ["", "   ", "\n"] {
            let none = try TrustedProxies.parse(blank).get()
            #expect(none.blocks.isEmpty)
            #expect(!none.trusts(try address("10.0.0.5")))
        }
        #expect(try TrustedProxies.parse("10.0.0.0/8", header: .forwarded).get().header == .forwarded)
    }

    @Test("a bad entry is named in the error")
    func badEntries() {
        let typo = parseError("10.0.0.0/8, 10.0.0.300")
        #expect(typo == TrustedProxies.ParseError(entry: "10.0.0.300", reason: .invalidAddress))
        #expect(typo?.description.contains("'10.0.0.300'") == true)
        let wide = parseError("10.0.0.0/8, 10.1.0.0/8")
        #expect(wide == TrustedProxies.ParseError(entry: "10.1.0.0/8", reason: .hostBitsSet(network: "10.0.0.0/8")))
        #expect(wide?.description.contains("10.0.0.0/8?") == true)
        #expect(parseError("10.0.0.0/8,,192.168.0.0/16") == TrustedProxies.ParseError(entry: "", reason: nil))
        #expect(parseError("10.0.0.0/8,") == TrustedProxies.ParseError(entry: "", reason: nil))
        #expect(parseError("10.0.0.0/8; 192.168.0.0/16")?.entry == "10.0.0.0/8; 192.168.0.0/16")
        #expect(parseError("*")?.entry == "*")
    }

    // MARK: Who may speak

    @Test("the headers of an untrusted peer are ignored")
    func untrustedPeer() throws {
        let spoofed = proxies.clientAddress(
            peer: "203.0.113.9", forwardedFor: ["1.2.3.4"], forwarded: ["for=1.2.3.4"])
        #expect(spoofed == (try address("203.0.113.9")))
        let nobody = try TrustedProxies.parse("").get()
        #expect(
            nobody.clientAddress(peer: ingress, forwardedFor: ["1.2.3.4"], forwarded: []) == (try address(ingress)),
            "with no trusted proxy, not even the ingress's headers count")
        #expect(
            TrustedProxies.empty.clientAddress(peer: "::1", forwardedFor: ["1.2.3.4"], forwarded: [])
                == (try address("::1")))
    }

    @Test("a peer that is not an address gives no client address")
    func unknownPeer() {
        for peer in ["unknown", "", "10.0.0.5:8080", "fe80::1%eth0", "garbage"] {
            #expect(proxies.clientAddress(peer: peer, forwardedFor: ["198.51.100.7"], forwarded: []) == nil)
        }
    }

    @Test("a trusted peer's X-Forwarded-For names the client; a mapped or IPv6 peer counts too")
    func trustedPeer() throws {
        let client = try address("198.51.100.7")
        #expect(proxies.clientAddress(peer: ingress, forwardedFor: ["198.51.100.7"], forwarded: []) == client)
        #expect(
            proxies.clientAddress(peer: "::ffff:10.0.0.5", forwardedFor: ["198.51.100.7"], forwarded: []) == client)
        #expect(
            proxies.clientAddress(peer: "2001:db8:ffff::1", forwardedFor: ["2001:db8:1:2::99"], forwarded: [])
                == (try address("2001:db8:1:2::99")))
        #expect(
            proxies.clientAddress(peer: ingress, forwardedFor: [], forwarded: []) == (try address(ingress)),
            "without a header the trusted peer is the client")
    }

    // MARK: The walk

    @Test("a client prepending fake hops cannot choose its address")
    func prependedHops() throws {
        let client = try address("198.51.100.7")
        // What the client sent, then what the ingress appended.
        for sent in ["6.6.6.6", "6.6.6.6, 10.0.0.1", "10.9.9.9", "1.1.1.1, 10.0.0.1, 10.0.0.2", "::1", "unknown"] {
            #expect(
                proxies.clientAddress(peer: ingress, forwardedFor: ["\(sent), 198.51.100.7"], forwarded: [])
                    == client, "\(sent)")
            #expect(
                proxies.clientAddress(peer: ingress, forwardedFor: [sent, "198.51.100.7"], forwarded: []) == client,
                "as a separate line: \(sent)")
        }
    }

    @Test("trusted proxies are skipped from the right; every hop trusted gives the leftmost")
    func chains() throws {
        #expect(
            proxies.clientAddress(peer: ingress, forwardedFor: ["198.51.100.7, 10.0.0.2"], forwarded: [])
                == (try address("198.51.100.7")))
        #expect(
            proxies.clientAddress(peer: ingress, forwardedFor: ["198.51.100.7", "10.0.0.2", "10.0.0.3"], forwarded: [])
                == (try address("198.51.100.7")), "lines are read in order")
        #expect(
            proxies.clientAddress(peer: ingress, forwardedFor: ["10.0.0.3, 10.0.0.2"], forwarded: [])
                == (try address("10.0.0.3")))
        #expect(
            proxies.clientAddress(
                peer: ingress, forwardedFor: ["6.6.6.6, 198.51.100.7, 2001:db8:ffff::2"], forwarded: [])
                == (try address("198.51.100.7")))
    }

    @Test("entries may carry ports and brackets, with spaces or tabs around them")
    func entryForms() throws {
        let cases = [
            ("198.51.100.7:5555", "198.51.100.7"), ("[2001:db8::7]:443", "2001:db8::7"),
            ("[2001:db8::7]", "2001:db8::7"),
            ("2001:db8::7", "2001:db8::7"), (" \t198.51.100.7 \t", "198.51.100.7"),
            ("::ffff:198.51.100.7", "198.51.100.7"),
            (",,198.51.100.7,,", "198.51.100.7"), ("198.51.100.7:_obfuscated", "198.51.100.7"),
        ]
        for (entry, expected) in cases {
            #expect(
                proxies.clientAddress(peer: ingress, forwardedFor: [entry], forwarded: []) == (try address(expected)),
                "\(entry)")
        }
    }

    @Test(
        "garbage is never taken for an address: the walk stops at the last trusted hop",
        arguments: [
            "garbage", "1.2.3.4 5.6.7.8", "1.2.3.4;5.6.7.8", "💥", "\0", "\"198.51.100.7\"", "01.2.3.4", "1.2.3.256",
            "::ffff:1.2.3.4%eth0", "[1.2.3.4]", "[::1", "::1]", "1.2.3.4:", "1.2.3.4:0", "1.2.3.4:65536",
            "1.2.3.4:80:80",
            "[::1]80", "[::1]:", "_hidden", "unknown", "for=1.2.3.4", String(repeating: "9", count: 10_000),
        ])
    func garbage(entry: String) throws {
        #expect(
            proxies.clientAddress(peer: ingress, forwardedFor: ["6.6.6.6, \(entry)"], forwarded: [])
                == (try address(ingress)))
        #expect(
            proxies.clientAddress(peer: ingress, forwardedFor: ["6.6.6.6, \(entry), 10.0.0.3"], forwarded: [])
                == (try address("10.0.0.3")))
        #expect(
            proxies.clientAddress(peer: ingress, forwardedFor: ["\(entry), 198.51.100.7"], forwarded: [])
                == (try address("198.51.100.7")), "garbage left of the client does not matter")
    }

    @Test("an empty header, or one of only separators, leaves the trusted peer")
    func emptyHeaders() throws {
        for lines in [[""], [" "], [",", " , "], ["", ""]] {
            #expect(proxies.clientAddress(peer: ingress, forwardedFor: lines, forwarded: []) == (try address(ingress)))
        }
    }

    @Test("a thousand hops: only the rightmost 32 are looked at")
    func thousandHops() throws {
        let trustedHops = Array(repeating: "10.0.0.1", count: 999)
        #expect(
            proxies.clientAddress(
                peer: ingress, forwardedFor: [(["6.6.6.6"] + trustedHops).joined(separator: ", ")], forwarded: [])
                == (try address("10.0.0.1")), "the walk stops at a trusted hop, never reaching the client's pick")
        #expect(
            proxies.clientAddress(peer: ingress, forwardedFor: ["6.6.6.6"] + trustedHops, forwarded: [])
                == (try address("10.0.0.1")), "as many lines")

        let madeUp = (0..<1000).map { "203.0.\($0 / 256).\($0 % 256)" }
        #expect(
            proxies.clientAddress(
                peer: ingress, forwardedFor: [(madeUp + ["198.51.100.7"]).joined(separator: ",")], forwarded: [])
                == (try address("198.51.100.7")))
        #expect(
            proxies.clientAddress(peer: ingress, forwardedFor: madeUp + ["198.51.100.7"], forwarded: [])
                == (try address("198.51.100.7")))

        let forty = Array(repeating: "10.0.0.1", count: 40)
        #expect(
            proxies.clientAddress(
                peer: ingress, forwardedFor: [(["198.51.100.7"] + forty).joined(separator: ",")], forwarded: [])
                == (try address("10.0.0.1")), "a chain of 40 trusted hops ends at the 32nd, well within the byte bound")

        let thirtyOne = Array(repeating: "10.0.0.1", count: 31)
        #expect(
            proxies.clientAddress(
                peer: ingress, forwardedFor: [(["198.51.100.7"] + thirtyOne).joined(separator: ",")], forwarded: [])
                == (try address("198.51.100.7")), "a chain within the bound is walked to its end")
    }

    @Test("a huge header is read from its right end only")
    func hugeHeader() throws {
        let padding = String(repeating: "6.6.6.6,", count: 150_000)
        #expect(
            proxies.clientAddress(peer: ingress, forwardedFor: [padding + "198.51.100.7"], forwarded: [])
                == (try address("198.51.100.7")))
        #expect(
            proxies.clientAddress(
                peer: ingress, forwardedFor: [padding + "198.51.100.7", String(repeating: " ", count: 100_000)],
                forwarded: []) == (try address(ingress)),
            "a line that fills the budget ends the walk at the trusted peer")
        let manyEmptyLines = Array(repeating: "", count: 100_000)
        #expect(
            proxies.clientAddress(peer: ingress, forwardedFor: ["198.51.100.7"] + manyEmptyLines, forwarded: [])
                == (try address(ingress)), "empty lines cost budget too")
        #expect(
            proxies.clientAddress(
                peer: ingress,
                forwardedFor: [String(repeating: "1", count: TrustedProxies.maximumHeaderBytes) + ",198.51.100.7"],
                forwarded: []) == (try address("198.51.100.7")), "an entry cut by the budget is left of the client")

        // The byte bound cuts `198.51.100.7` to `8.51.100.7`, an address but not the one sent.
        let trustedHops = String(repeating: ",10.0.0.1", count: 10)
        let spaces = String(
            repeating: " ", count: TrustedProxies.maximumHeaderBytes - "8.51.100.7,".utf8.count - trustedHops.utf8.count
        )
        #expect(
            proxies.clientAddress(
                peer: ingress, forwardedFor: ["6.6.6.6, 198.51.100.7," + spaces + trustedHops], forwarded: [])
                == (try address("10.0.0.1")), "a cut entry is not read, however it looks")
    }

    // MARK: Forwarded

    var forwardedProxies: TrustedProxies { TrustedProxies(blocks: proxies.blocks, header: .forwarded) }

    func forwardedClient(_ lines: [String], forwardedFor: [String] = []) -> IPAddress? {
        forwardedProxies.clientAddress(peer: ingress, forwardedFor: forwardedFor, forwarded: lines)
    }

    @Test("Forwarded: for= in its RFC 7239 forms")
    func forwardedForms() throws {
        let cases = [
            (#"for="[2001:db8::1]:4711""#, "2001:db8::1"), (#"for="[2001:db8::1]""#, "2001:db8::1"),
            ("for=192.0.2.60;proto=http;by=203.0.113.43", "192.0.2.60"), (#"For="192.0.2.60:8080""#, "192.0.2.60"),
            ("proto=https;FOR=192.0.2.60", "192.0.2.60"), ("for=192.0.2.43, for=198.51.100.17", "198.51.100.17"),
            (#"for="_gazonk", for=198.51.100.17"#, "198.51.100.17"), (" for=192.0.2.60 ; proto=https ", "192.0.2.60"),
            (#"for="\192.0.2.60""#, "192.0.2.60"), (#"for="192.0.2.60:_port""#, "192.0.2.60"),
            (#"for=192.0.2.60;by="[2001:db8::9]:80,x""#, "192.0.2.60"),
            // Lenient: a bracketed node without quotes, an IPv6 address without brackets.
            ("for=[2001:db8::1]:4711", "2001:db8::1"), (#"for="2001:db8::1""#, "2001:db8::1"),
            (#"for="::ffff:192.0.2.60""#, "192.0.2.60"),
        ]
        for (header, expected) in cases {
            #expect(forwardedClient([header]) == (try address(expected)), "\(header)")
        }
        #expect(
            forwardedClient(["for=192.0.2.43", "for=198.51.100.17;by=10.0.0.5"]) == (try address("198.51.100.17")))
        #expect(
            forwardedClient(["for=198.51.100.17, for=10.0.0.2"]) == (try address("198.51.100.17")),
            "trusted hops are skipped")
    }

    @Test(
        "Forwarded: obfuscated, unknown and malformed nodes stop the walk at the last trusted hop",
        arguments: [
            "for=unknown", "for=UNKNOWN", "for=_hidden", #"for="_gazonk""#, "proto=https", "by=1.2.3.4",
            "for=1.2.3.4;for=5.6.7.8", "for=", #"for="""#, #"for="1.2.3.4"#, #"for=1.2.3.4""#, "for 1.2.3.4", "1.2.3.4",
            #"for="[2001:db8::\"1]""#, #"for="[1.2.3.4]""#, #"for="[fe80::1%25eth0]:80""#, #"for="1.2.3.4:0""#,
            #"for="1.2.3.4:99999""#, "for=1.2.3.4 5.6.7.8", "for=1.2.3.4;proto", #"for="1.2.3.4" x"#,
            "for=garbage",
        ])
    func forwardedGarbage(element: String) throws {
        #expect(forwardedClient(["for=6.6.6.6, \(element)"]) == (try address(ingress)), "\(element)")
        #expect(forwardedClient(["for=6.6.6.6, \(element), for=10.0.0.2"]) == (try address("10.0.0.2")))
    }

    @Test("Forwarded: quoted commas and open quotes from the client cannot hide the proxy's hop")
    func forwardedQuotes() throws {
        let client = try address("198.51.100.7")
        #expect(forwardedClient([#"for="6.6.6.6, for=7.7.7.7", for=198.51.100.7"#]) == client)
        #expect(forwardedClient([#"for="6.6.6.6"#, "for=198.51.100.7"]) == client, "an open quote in its own line")
        #expect(forwardedClient([#"for="6.6.6.6, for=198.51.100.7"#]) == client, "an open quote in the same line")
        // The proxy's element is one quoted value holding `", for=6.6.6.6`: not an address.
        #expect(
            forwardedClient([#"for=198.51.100.7, for="\", for=6.6.6.6""#]) == (try address(ingress)),
            "an escaped quote does not end a quoted string")
        #expect(
            forwardedClient([#"for=198.51.100.7, for=10.0.0.2;by="\", for=6.6.6.6""#]) == client,
            "the trusted proxy's element ends at its closing quote, not at the escaped one")
        #expect(
            forwardedClient([#"for=198.51.100.7, for=10.0.0.2;by="\\""#]) == client,
            "an escaped backslash does not escape the closing quote")
        #expect(
            forwardedClient([#"for=198.51.100.7;by="x, for=10.0.0.9""#]) == client,
            "a comma inside a quoted value does not start an element")
    }

    @Test("Forwarded: a thousand elements, and a huge line, are bounded")
    func forwardedBounds() throws {
        let trusted = Array(repeating: "for=10.0.0.1", count: 999)
        #expect(forwardedClient([(["for=6.6.6.6"] + trusted).joined(separator: ", ")]) == (try address("10.0.0.1")))
        let padding = String(repeating: #"for="6.6.6.6", "#, count: 100_000)
        #expect(forwardedClient([padding + #"for="[2001:db8::1]:4711""#]) == (try address("2001:db8::1")))
        let openQuote = #"for=""# + String(repeating: "a", count: 100_000)
        #expect(forwardedClient([openQuote]) == (try address(ingress)))
    }

    @Test("which header counts is the setting's choice, not the client's")
    func headerChoice() throws {
        let client = try address("198.51.100.7")
        // ingress-nginx appends X-Forwarded-For and passes the client's Forwarded on.
        #expect(
            proxies.clientAddress(peer: ingress, forwardedFor: ["198.51.100.7"], forwarded: ["for=6.6.6.6"]) == client)
        #expect(
            proxies.clientAddress(peer: ingress, forwardedFor: [], forwarded: ["for=6.6.6.6"]) == (try address(ingress))
        )
        #expect(
            forwardedClient(["for=198.51.100.7"], forwardedFor: ["6.6.6.6"]) == client,
            "with Forwarded chosen, X-Forwarded-For is ignored")
        #expect(forwardedClient([], forwardedFor: ["6.6.6.6"]) == (try address(ingress)))

        let either = TrustedProxies(blocks: proxies.blocks, header: .forwardedElseXForwardedFor)
        #expect(
            either.clientAddress(peer: ingress, forwardedFor: ["6.6.6.6"], forwarded: ["for=198.51.100.7"]) == client)
        #expect(either.clientAddress(peer: ingress, forwardedFor: ["198.51.100.7"], forwarded: []) == client)
        #expect(
            either.clientAddress(peer: ingress, forwardedFor: ["198.51.100.7"], forwarded: [" ", "\t"]) == client,
            "a blank Forwarded header is no Forwarded header")
    }

    // MARK: Keys

    @Test("rate-limit keys: IPv4 as is, IPv6 by its /64")
    func keys() throws {
        #expect(rateLimitKey(for: try address("1.2.3.4")) == "ip:1.2.3.4")
        #expect(rateLimitKey(for: try address("::ffff:1.2.3.4")) == "ip:1.2.3.4", "mapped IPv4 shares the IPv4 key")
        #expect(rateLimitKey(for: try address("1.2.3.5")) != rateLimitKey(for: try address("1.2.3.4")))

        let key = rateLimitKey(for: try address("2001:db8:1:2::1"))
        #expect(key == "ip6:2001:db8:1:2::/64")
        for sibling in ["2001:db8:1:2::2", "2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:DB8:1:2:abcd::", "2001:db8:1:2::"]
        {
            #expect(rateLimitKey(for: try address(sibling)) == key, "\(sibling) is in the same /64")
        }
        for stranger in ["2001:db8:1:3::1", "2001:db8:1::1", "2001:db9:1:2::1", "::1"] {
            #expect(rateLimitKey(for: try address(stranger)) != key, "\(stranger) is in another /64")
        }
        #expect(rateLimitKey(for: try address("2001:db8::1")) == "ip6:2001:db8::/64")
        #expect(rateLimitKey(for: try address("::1")) == "ip6:::/64")
    }
}
