import Foundation
import Testing

@testable import Contracts

/// `Timestamp` writes and reads the common case byte by byte; these hold it to what
/// Foundation's ISO 8601 format style gives for the same times and texts.
@Suite("Timestamps byte by byte, the same as Foundation's format style")
struct TimestampTests {
    let withFraction = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
    let withoutFraction = Date.ISO8601FormatStyle()

    @Test("formatting gives the format style's text for random times from 1900 to 9999, and at the edges")
    func formats() {
        var generator = SystemRandomNumberGenerator()
        var times: [Double] = [
            0, -0.0005, 1.9995, 1.9999, 951_782_400, 1_709_164_800.5, 1_795_000_000.5, 1_764_657_912.9999,
            4_102_444_799.999, 253_402_300_799.999, 253_402_300_800, -2_208_988_800, 1_078_307_200,
            1_078_307_199.9995,
        ]
        for index in 0..<200_000 {
            switch index % 3 {
            case 0: times.append(Double.random(in: -2_208_988_800..<253_402_300_800, using: &generator))
            case 1: times.append(Double(Int64.random(in: 0..<4_102_444_800_000, using: &generator)) / 1000)
            default: times.append(Double(Int64.random(in: 0..<4_102_444_800_000_000, using: &generator)) / 1_000_000)
            }
        }
        var mismatches: [String] = []
        for time in times {
            let date = Date(timeIntervalSince1970: time)
            let expected = withFraction.format(date)
            if Timestamp.format(date) != expected {
                mismatches.append("\(time): \(Timestamp.format(date)) ≠ \(expected)")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
    }

    @Test("parsing gives the format style's date for random texts with 0 to 6 fractional digits, and refuses the same")
    func parses() {
        var generator = SystemRandomNumberGenerator()
        var mismatches: [String] = []
        for index in 0..<200_000 {
            let seconds = Int64.random(in: -2_208_988_800..<253_402_300_800, using: &generator)
            let digits = index % 7
            let fraction = (0..<digits).map { _ in String(Int.random(in: 0...9, using: &generator)) }.joined()
            let whole = withoutFraction.format(Date(timeIntervalSince1970: Double(seconds)))
            let text = digits == 0 ? whole : String(whole.dropLast()) + "." + fraction + "Z"
            let expected = (try? withFraction.parse(text)) ?? (try? withoutFraction.parse(text))
            if Timestamp.parse(text) != expected { mismatches.append(text) }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
        for text in [
            "2026-12-02T06:45:12.345Z", "2026-12-02T08:45:12.345+02:00", "2026-12-02t06:45:12.345z",
            "2026-12-02 06:45:12.345Z", "2026-12-02T06:45:12,345Z", "2026-02-30T06:45:12Z", "2024-02-29T00:00:00Z",
            "2026-12-02T24:00:00Z", "2026-12-02T06:45:60Z", "20261202T064512Z", "2026-12-02T06:45:12.1234567Z",
            "2026-12-02T06:45:12.Z", "2026-13-02T06:45:12Z", "2026-00-02T06:45:12Z", "2026-12-00T06:45:12Z",
            "+2026-12-02T06:45:12Z", "2026-12-02T06:45:12", "", "yesterday", "2026-12-02T06:45:1xZ",
        ] {
            let expected = (try? withFraction.parse(text)) ?? (try? withoutFraction.parse(text))
            #expect(Timestamp.parse(text) == expected, "\(text)")
        }
    }

    @Test("what it writes it reads back to the millisecond")
    func roundTrips() {
        for time in [1_795_000_000.5, 1_764_657_912.25, 4_102_444_799.875] {
            let date = Date(timeIntervalSince1970: time)
            #expect(Timestamp.parse(Timestamp.format(date)) == date)
            // Read byte by byte, not by the format style.
            #expect(Timestamp.parseCommon(Timestamp.format(date)) == date)
        }
        #expect(Timestamp.parseCommon("2026-12-02T08:45:12.345+02:00") == nil)
    }
}
