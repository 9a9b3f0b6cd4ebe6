import Contracts
import Foundation
import ProfileService
import Testing

@Suite("Attachment scoring, location and report rules")
struct ProfileDomainTests {
    let now = Date(timeIntervalSince1970: 1_795_348_800)

    /// Answers that put `anxiety` on every anxiety item and `avoidance` on every avoidance
    /// item once reverse keying is undone.
    func answers(anxiety: Int, avoidance: Int) -> [Int] {
        AttachmentQuestionnaire.items.map { item in
            let keyed = item.subscale == .anxiety ? anxiety : avoidance
            return item.reverseKeyed ? 8 - keyed : keyed
        }
    }

    @Test("18 items, 9 per subscale, some reverse-keyed on each")
    func questionnaire() {
        let items = AttachmentQuestionnaire.items
        #expect(items.count == 18)
        #expect(items.map(\.number) == Array(1...18))
        #expect(items.filter { $0.subscale == .anxiety }.count == 9)
        #expect(items.filter { $0.subscale == .avoidance }.count == 9)
        #expect(items.contains { $0.subscale == .anxiety && $0.reverseKeyed })
        #expect(items.contains { $0.subscale == .avoidance && $0.reverseKeyed })
    }

    @Test("means of 9 items each, reverse-keyed items flipped; the four styles at the line of 4")
    func scoring() throws {
        let secure = try AttachmentScoring.score(answers(anxiety: 2, avoidance: 3)).get()
        #expect(secure.anxiety == 2 && secure.avoidance == 3 && secure.style == .secure)
        #expect(try AttachmentScoring.score(answers(anxiety: 4, avoidance: 3)).get().style == .anxious)
        #expect(try AttachmentScoring.score(answers(anxiety: 3, avoidance: 4)).get().style == .avoidant)
        #expect(try AttachmentScoring.score(answers(anxiety: 7, avoidance: 5)).get().style == .fearful)
        // All 7s: every reverse-keyed item counts 1.
        let sevens = try AttachmentScoring.score(Array(repeating: 7, count: 18)).get()
        let anxietyReversed = AttachmentQuestionnaire.items.filter { $0.subscale == .anxiety && $0.reverseKeyed }.count
        #expect(
            abs(sevens.anxiety - (Double(7 * (9 - anxietyReversed) + anxietyReversed) / 9 * 100).rounded() / 100) < 1e-9
        )
        #expect(!secure.explanation.isEmpty)
        #expect(AttachmentScoring.style(anxiety: 3.99, avoidance: 3.99) == .secure)
        #expect(AttachmentScoring.style(anxiety: 4, avoidance: 4) == .fearful)
    }

    @Test("answers must be 18, each 1 to 7")
    func badAnswers() {
        for bad in [
            Array(repeating: 4, count: 17), Array(repeating: 4, count: 19), [0] + Array(repeating: 4, count: 17),
            Array(repeating: 4, count: 17) + [8],
        ] {
            guard case .failure(let failure) = AttachmentScoring.score(bad) else {
                Issue.record("accepted \(bad)")
                continue
            }
            #expect(failure.fieldErrors?.map(\.field) == ["answers"])
        }
    }

    @Test("one location change a minute; a move faster than 1000 km/h is flagged, one cell never")
    func locationPolicy() throws {
        let paris = try #require(LocationGrid.cell(latitude: 48.8566, longitude: 2.3522))
        let nextDoor = try #require(LocationGrid.cell(latitude: 48.8656, longitude: 2.3522))
        let newYork = try #require(LocationGrid.cell(latitude: 40.7128, longitude: -74.0060))
        #expect(LocationPolicy.decide(from: nil, to: paris, at: now) == .accepted(implausibleJump: false))
        #expect(
            LocationPolicy.decide(from: (paris, now), to: nextDoor, at: now + 59.5) == .tooSoon(retryAfterSeconds: 1))
        #expect(
            LocationPolicy.decide(from: (paris, now), to: nextDoor, at: now + 10) == .tooSoon(retryAfterSeconds: 50))
        #expect(
            LocationPolicy.decide(from: (paris, now), to: nextDoor, at: now + 60) == .accepted(implausibleJump: false))
        // Paris to New York (5,837 km) in an hour: a jump; in eight hours, a flight.
        #expect(
            LocationPolicy.decide(from: (paris, now), to: newYork, at: now + 3600) == .accepted(implausibleJump: true))
        #expect(
            LocationPolicy.decide(from: (paris, now), to: newYork, at: now + 8 * 3600)
                == .accepted(implausibleJump: false))
    }

    @Test("reports: reasons, detail, not yourself")
    func reportValidation() {
        let (a, b) = (UUID(), UUID())
        #expect(
            (try? ReportPolicy.validate(reason: "spam", detail: "  links  ", reporter: a, target: b).get())?.1
                == "links")
        guard
            case .failure(let failure) = ReportPolicy.validate(
                reason: "rude", detail: String(repeating: "x", count: 1001), reporter: a, target: a)
        else {
            Issue.record("accepted")
            return
        }
        #expect(failure.fieldErrors?.map(\.field) == ["reason", "detail", "userId"])
    }

    @Test("reporters mostly dismissed stop counting; 3 counted reporters suspend; underage holds")
    func automaticAction() {
        #expect(ReportPolicy.counts(resolved: 4, dismissed: 4), "too few resolved to judge")
        #expect(!ReportPolicy.counts(resolved: 5, dismissed: 4))
        #expect(!ReportPolicy.counts(resolved: 10, dismissed: 7))
        #expect(ReportPolicy.counts(resolved: 10, dismissed: 6))
        #expect(ReportPolicy.automaticAction(countedReporters: 2, countedUnderageReport: false, current: .none) == nil)
        #expect(
            ReportPolicy.automaticAction(countedReporters: 3, countedUnderageReport: false, current: .none)
                == .suspended)
        #expect(ReportPolicy.automaticAction(countedReporters: 1, countedUnderageReport: true, current: .none) == .held)
        #expect(
            ReportPolicy.automaticAction(countedReporters: 3, countedUnderageReport: true, current: .held) == .suspended
        )
        #expect(ReportPolicy.automaticAction(countedReporters: 5, countedUnderageReport: true, current: .banned) == nil)
    }

    @Test("what each moderator action leaves")
    func outcomes() {
        #expect(ReportPolicy.outcome(of: .dismiss, current: .none) == (.none, "dismissed"))
        #expect(ReportPolicy.outcome(of: .warn, current: .none) == (.none, "actioned"))
        #expect(ReportPolicy.outcome(of: .suspend, current: .held) == (.suspended, "actioned"))
        #expect(ReportPolicy.outcome(of: .suspend, current: .banned) == (.banned, "actioned"))
        #expect(ReportPolicy.outcome(of: .ban, current: .suspended) == (.banned, "actioned"))
        #expect(ReportPolicy.outcome(of: .reinstate, current: .banned) == (.none, "dismissed"))
    }
}
