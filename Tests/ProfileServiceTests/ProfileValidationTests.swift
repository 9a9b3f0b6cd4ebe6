import Contracts
import Foundation
import ProfileService
import Testing

@Suite("Profile rules")
struct ProfileValidationTests {
    // 2026-11-22T12:00:00Z, chosen by the test rather than read from the clock.
    let today = Date(timeIntervalSince1970: 1_795_348_800)
    let userID = UUID()

    var empty: ProfileRecord { ProfileRecord(userID: userID, updatedAt: today) }

    func request(
        displayName: String? = "Ada", birthdate: String? = "1990-05-17", gender: String? = "woman",
        seeking: [String]? = ["man", "nonbinary"], bio: String? = nil
    ) -> ProfileUpdateRequested {
        ProfileUpdateRequested(
            userId: userID, displayName: displayName, birthdate: birthdate, gender: gender, seeking: seeking, bio: bio)
    }

    func patch(_ change: (inout ProfileUpdateRequested) -> Void) -> ProfileUpdateRequested {
        var request = ProfileUpdateRequested(
            userId: userID, displayName: nil, birthdate: nil, gender: nil, seeking: nil, bio: nil)
        request.partial = true
        change(&request)
        return request
    }

    func apply(_ request: ProfileUpdateRequested, to record: ProfileRecord? = nil) -> Result<
        ProfileRecord, RequestFailed
    > {
        ProfileEditing.apply(request, to: record ?? empty, today: today)
    }

    func fields(_ result: Result<ProfileRecord, RequestFailed>) -> [String] {
        guard case .failure(let failure) = result else { return [] }
        #expect(failure.code == .validationFailed)
        return (failure.fieldErrors ?? []).map(\.field)
    }

    @Test("a complete, valid profile passes, trimmed")
    func valid() throws {
        let profile = try apply(request(displayName: "  Ada  ", bio: "Hi")).get()
        #expect(profile.displayName == "Ada")
        #expect(profile.bio == "Hi")
        #expect(profile.visible)
        #expect(
            profile.effectiveDiscovery
                == DiscoveryPreferences(ageMin: 18, ageMax: 99, maxDistanceKm: 50, genders: ["man", "nonbinary"]))
    }

    @Test("18 today is an adult; 18 tomorrow is not")
    func ageBoundary() {
        #expect(fields(apply(request(birthdate: "2008-11-22"))) == [])
        #expect(fields(apply(request(birthdate: "2008-11-23"))) == ["birthdate"])
    }

    @Test("every invalid field is named in one answer")
    func everyField() {
        var bad = request(
            displayName: "", birthdate: "17/05/1990", gender: "robot", seeking: ["woman", "woman"],
            bio: String(repeating: "x", count: 501))
        bad.interests = ["hiking", "knitting-on-mars"]
        bad.values = ["family", "career"]
        bad.relationshipIntent = "forever"
        bad.heightCm = 40
        bad.job = String(repeating: "j", count: 101)
        bad.education = "   "
        bad.languages = ["en", "xx"]
        bad.timeZone = "Mars/Olympus"
        bad.discovery = DiscoveryUpdate(ageMin: 17, ageMax: 120, maxDistanceKm: 301, genders: [])
        #expect(
            fields(apply(bad)) == [
                "displayName", "birthdate", "gender", "seeking", "bio", "interests", "values", "relationshipIntent",
                "heightCm", "job", "education", "languages", "timeZone", "discovery.ageMin", "discovery.ageMax",
                "discovery.maxDistanceKm", "discovery.genders",
            ])
    }

    @Test("missing required fields are named")
    func missing() {
        #expect(
            fields(apply(request(displayName: nil, birthdate: nil, gender: nil, seeking: nil)))
                == ["displayName", "birthdate", "gender", "seeking"])
    }

    @Test("seeking must name known genders, at least one")
    func seeking() {
        #expect(fields(apply(request(seeking: []))) == ["seeking"])
        #expect(fields(apply(request(seeking: ["aliens"]))) == ["seeking"])
    }

    @Test("interests: 1 to 10 distinct tags of the vocabulary")
    func interests() {
        func with(_ tags: [String]) -> [String] {
            var update = request()
            update.interests = tags
            return fields(apply(update))
        }
        #expect(with(["hiking"]) == [])
        #expect(with(Array(ProfileVocabulary.interests.prefix(10))) == [])
        #expect(with(Array(ProfileVocabulary.interests.prefix(11))) == ["interests"])
        #expect(with([]) == ["interests"])
        #expect(with(["hiking", "hiking"]) == ["interests"])
        #expect((90...110).contains(ProfileVocabulary.interests.count))
        #expect(Set(ProfileVocabulary.interests).count == ProfileVocabulary.interests.count)
    }

    @Test("values rank every statement exactly once")
    func values() throws {
        var update = request()
        update.values = ProfileVocabulary.valueIDs.reversed()
        #expect(try apply(update).get().values == ProfileVocabulary.valueIDs.reversed())
        update.values = ProfileVocabulary.valueIDs.dropLast() + ["family"]
        #expect(fields(apply(update)) == ["values"])
        #expect((6...8).contains(ProfileVocabulary.valueIDs.count))
    }

    @Test("time zones are IANA names, not abbreviations or offsets")
    func timeZones() {
        func with(_ zone: String) -> [String] {
            var update = request()
            update.timeZone = zone
            return fields(apply(update))
        }
        #expect(with("Europe/Paris") == [])
        #expect(with("America/Argentina/Buenos_Aires") == [])
        #expect(with("UTC") == [])
        for bad in ["EST", "GMT+2", "+01:00", "europe/paris", "", "Europe/Paris\u{0}"] {
            #expect(with(bad) == ["timeZone"])
        }
    }

    @Test("discovery: ages 18 to 99 with min at most max, distance 1 to 300 km, genders known")
    func discovery() throws {
        var update = request()
        update.discovery = DiscoveryUpdate(ageMin: 30, ageMax: 29)
        #expect(fields(apply(update)) == ["discovery.ageMax"])
        update.discovery = DiscoveryUpdate(ageMin: 30, ageMax: 30, maxDistanceKm: 1, genders: ["woman"])
        #expect(
            try apply(update).get().discovery
                == DiscoveryPreferences(ageMin: 30, ageMax: 30, maxDistanceKm: 1, genders: ["woman"]))
        update.discovery = DiscoveryUpdate(maxDistanceKm: 0)
        #expect(fields(apply(update)) == ["discovery.maxDistanceKm"])
    }

    @Test("a PATCH changes what it names, merges discovery, and clears with null")
    func patchMerges() throws {
        var full = request(bio: "Hi")
        full.job = "Engineer"
        full.discovery = DiscoveryUpdate(ageMin: 25, ageMax: 40, maxDistanceKm: 30, genders: ["man"])
        let stored = try apply(full).get()

        let bio = try apply(patch { $0.bio = "New" }, to: stored).get()
        #expect(bio.bio == "New" && bio.displayName == "Ada" && bio.job == "Engineer")
        #expect(bio.discovery == stored.discovery)

        let distance = try apply(patch { $0.discovery = DiscoveryUpdate(maxDistanceKm: 10) }, to: stored).get()
        #expect(distance.discovery == DiscoveryPreferences(ageMin: 25, ageMax: 40, maxDistanceKm: 10, genders: ["man"]))
        #expect(fields(apply(patch { $0.discovery = DiscoveryUpdate(ageMin: 41) }, to: stored)) == ["discovery.ageMax"])

        let cleared = try apply(patch { $0.clear = ["job", "bio"] }, to: stored).get()
        #expect(cleared.job == nil && cleared.bio == nil && cleared.displayName == "Ada")

        #expect(fields(apply(patch { $0.clear = ["displayName"] }, to: stored)) == ["displayName"])
        #expect(
            fields(
                apply(
                    patch {
                        $0.clear = ["job"]
                        $0.job = "Chef"
                    }, to: stored)) == ["job"])
        #expect(fields(apply(patch { $0.visible = false }, to: stored)) == [])
    }

    @Test("a PUT replaces the profile: what it leaves out is cleared, but a pause and discovery stay")
    func putReplaces() throws {
        var full = request(bio: "Hi")
        full.job = "Engineer"
        full.visible = false
        full.discovery = DiscoveryUpdate(maxDistanceKm: 5)
        let stored = try apply(full).get()
        let replaced = try apply(request(), to: stored).get()
        #expect(replaced.job == nil && replaced.bio == nil)
        #expect(!replaced.visible, "a paused profile stays paused")
        #expect(replaced.effectiveDiscovery.maxDistanceKm == 5)
        var resumed = request()
        resumed.visible = true
        resumed.discovery = DiscoveryUpdate(ageMin: 40)
        let again = try apply(resumed, to: stored).get()
        #expect(again.visible && again.discovery?.ageMin == 40 && again.discovery?.maxDistanceKm == 5)
        var withClear = request()
        withClear.clear = ["bio"]
        #expect(fields(apply(withClear)) == ["clear"])
    }

    @Test("others see an age, never the birthdate, and only a discoverable profile")
    func publicView() throws {
        var profile = try apply(request()).get()
        let view = try #require(profile.publicView(for: nil, today: today))
        #expect(view.age == 36)
        #expect(view.distance == nil)
        let encoded = String(decoding: try JSONEncoder().encode(view), as: UTF8.self)
        #expect(!encoded.contains("1990") && !encoded.contains("birthdate"))
        profile.visible = false
        #expect(profile.publicView(for: nil, today: today) == nil)
        profile.visible = true
        for state in [ModerationState.held, .suspended, .banned] {
            profile.moderation = state
            #expect(profile.publicView(for: nil, today: today) == nil)
        }
        #expect(empty.publicView(for: nil, today: today) == nil, "an incomplete profile is not shown")
    }

    @Test("calendar dates are strict and must exist")
    func calendarDates() {
        #expect(CalendarDate("2024-02-29") != nil)
        #expect(CalendarDate("2023-02-29") == nil)
        #expect(CalendarDate("2023-13-01") == nil)
        #expect(CalendarDate("2023-1-01") == nil)
        #expect(CalendarDate("١٩٩٠-٠١-٠١") == nil)
        #expect(CalendarDate("1990-05-17")?.age(on: today) == 36)
    }
}
