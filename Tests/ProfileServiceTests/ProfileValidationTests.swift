import Contracts
import Foundation
import ProfileService
import Testing

@Suite("Profile rules")
struct ProfileValidationTests {
    // 2026-11-22T12:00:00Z, chosen by the test rather than read from the clock.
    let today = Date(timeIntervalSince1970: 1_795_348_800)
    let userID = UUID()

    func request(
        displayName: String? = "Ada", birthdate: String? = "1990-05-17", gender: String? = "woman",
        seeking: [String]? = ["man", "nonbinary"], bio: String? = nil
    ) -> ProfileUpdateRequested {
        ProfileUpdateRequested(
            userId: userID, displayName: displayName, birthdate: birthdate, gender: gender, seeking: seeking, bio: bio)
    }

    func fields(_ result: Result<ValidProfile, RequestFailed>) -> [String] {
        guard case .failure(let failure) = result else { return [] }
        #expect(failure.code == .validationFailed)
        return (failure.fieldErrors ?? []).map(\.field)
    }

    @Test("a complete, valid profile passes, trimmed")
    func valid() throws {
        let result = ProfileValidation.validate(request(displayName: "  Ada  ", bio: "Hi"), today: today)
        let profile = try result.get()
        #expect(profile.displayName == "Ada")
        #expect(profile.bio == "Hi")
    }

    @Test("18 today is an adult; 18 tomorrow is not")
    func ageBoundary() {
        #expect(fields(ProfileValidation.validate(request(birthdate: "2008-11-22"), today: today)) == [])
        #expect(fields(ProfileValidation.validate(request(birthdate: "2008-11-23"), today: today)) == ["birthdate"])
    }

    @Test("every invalid field is named in one answer")
    func everyField() {
        let result = ProfileValidation.validate(
            request(
                displayName: "", birthdate: "17/05/1990", gender: "robot", seeking: ["woman", "woman"],
                bio: String(repeating: "x", count: 501)),
            today: today)
        #expect(fields(result) == ["displayName", "birthdate", "gender", "seeking", "bio"])
    }

    @Test("missing required fields are named")
    func missing() {
        let result = ProfileValidation.validate(
            request(displayName: nil, birthdate: nil, gender: nil, seeking: nil), today: today)
        #expect(fields(result) == ["displayName", "birthdate", "gender", "seeking"])
    }

    @Test("seeking must name known genders, at least one")
    func seeking() {
        #expect(fields(ProfileValidation.validate(request(seeking: []), today: today)) == ["seeking"])
        #expect(fields(ProfileValidation.validate(request(seeking: ["aliens"]), today: today)) == ["seeking"])
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
