import Contracts
import Foundation

/// The rules of editing a profile, without I/O: `today` is passed in so tests choose the date.
///
/// `PUT` (`partial` false) replaces every editable field of the profile: `displayName`,
/// `birthdate`, `gender` and `seeking` are required, any other field absent is cleared. The
/// two settings, `visible` and `discovery`, keep their values when absent: a client that
/// rewrites the profile must not un-pause it. `PATCH` changes only what it names: a field it sets is
/// checked like in a `PUT`, `clear` sets optional fields to nothing, and `discovery`'s
/// members merge into the current ones. Every wrong field is named in one answer.
public enum ProfileEditing {
    public static func apply(_ request: ProfileUpdateRequested, to current: ProfileRecord, today: Date) -> Result<
        ProfileRecord, RequestFailed
    > {
        var check = FieldCheck()
        let partial = request.partial ?? false
        var next = current
        if !partial {
            next = ProfileRecord(userID: current.userID, updatedAt: current.updatedAt)
            next.cell = current.cell
            next.locationUpdatedAt = current.locationUpdatedAt
            next.attachmentStyle = current.attachmentStyle
            next.moderation = current.moderation
            next.moderationSequence = current.moderationSequence
            next.sequence = current.sequence
            next.visible = current.visible
            next.discovery = current.discovery
            for field in ["displayName", "birthdate", "gender", "seeking"] where request.isAbsent(field) {
                check.fail(field, "is required")
            }
            if request.clear?.isEmpty == false { check.fail("clear", "is only for PATCH") }
        }
        let cleared = Set(request.clear ?? [])
        for field in cleared.sorted() {
            if !ProfileRules.clearableFields.contains(field) {
                check.fail(field, "cannot be cleared")
            } else if !request.isAbsent(field) {
                check.fail(field, "is both set and cleared")
            }
        }

        if let name = request.displayName {
            let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
            if check.length("displayName", trimmed, ProfileRules.displayNameLength) { next.displayName = trimmed }
        }
        if let birthdate = request.birthdate {
            if let born = CalendarDate(birthdate) {
                let age = born.age(on: today)
                if age < ProfileRules.minimumAge {
                    check.fail("birthdate", "users must be at least \(ProfileRules.minimumAge)")
                } else if age > ProfileRules.maximumAge {
                    check.fail("birthdate", "is not a plausible date of birth")
                } else {
                    next.birthdate = birthdate
                }
            } else {
                check.fail("birthdate", "must be a date written YYYY-MM-DD")
            }
        }
        if let gender = request.gender, check.oneOf("gender", gender, ProfileRules.genders) { next.gender = gender }
        if let seeking = request.seeking,
            check.list("seeking", seeking, allowed: Set(ProfileRules.genders), count: 1...ProfileRules.genders.count)
        {
            next.seeking = seeking
        }
        if let bio = request.bio {
            if bio.count > ProfileRules.bioMaxLength {
                check.fail("bio", "must be at most \(ProfileRules.bioMaxLength) characters")
            } else {
                next.bio = bio
            }
        }
        if let interests = request.interests,
            check.list(
                "interests", interests, allowed: ProfileVocabulary.interestSet, count: ProfileRules.interestCount,
                vocabulary: "GET /v1/vocabulary")
        {
            next.interests = interests
        }
        if let values = request.values {
            if values.sorted() == ProfileVocabulary.valueIDs.sorted() {
                next.values = values
            } else {
                check.fail(
                    "values", "must rank each of \(ProfileVocabulary.valueIDs.joined(separator: ", ")) exactly once")
            }
        }
        if let intent = request.relationshipIntent,
            check.oneOf("relationshipIntent", intent, ProfileVocabulary.relationshipIntents)
        {
            next.relationshipIntent = intent
        }
        if let height = request.heightCm, check.within("heightCm", height, ProfileRules.heightCm) {
            next.heightCm = height
        }
        if let job = request.job {
            let trimmed = job.trimmingCharacters(in: .whitespacesAndNewlines)
            if check.length("job", trimmed, 1...ProfileRules.jobMaxLength) { next.job = trimmed }
        }
        if let education = request.education {
            let trimmed = education.trimmingCharacters(in: .whitespacesAndNewlines)
            if check.length("education", trimmed, 1...ProfileRules.educationMaxLength) { next.education = trimmed }
        }
        if let languages = request.languages,
            check.list(
                "languages", languages, allowed: ProfileVocabulary.languageSet,
                count: 1...ProfileRules.languageMaxCount, vocabulary: "ISO 639-1 codes")
        {
            next.languages = languages
        }
        if let zone = request.timeZone {
            if TimeZoneNames.isKnown(zone) {
                next.timeZone = zone
            } else {
                check.fail("timeZone", "must be an IANA time zone name, such as Europe/Paris")
            }
        }
        if let visible = request.visible { next.visible = visible }
        for field in cleared where ProfileRules.clearableFields.contains(field) { next.clear(field) }

        if let update = request.discovery {
            let base = current.discovery ?? next.effectiveDiscovery
            var discovery = DiscoveryPreferences(
                ageMin: update.ageMin ?? base.ageMin, ageMax: update.ageMax ?? base.ageMax,
                maxDistanceKm: update.maxDistanceKm ?? base.maxDistanceKm, genders: update.genders ?? base.genders)
            let minimumValid = check.within("discovery.ageMin", discovery.ageMin, ProfileRules.discoveryAge)
            let maximumValid = check.within("discovery.ageMax", discovery.ageMax, ProfileRules.discoveryAge)
            if minimumValid, maximumValid, discovery.ageMin > discovery.ageMax {
                check.fail("discovery.ageMax", "must not be below discovery.ageMin (\(discovery.ageMin))")
            }
            _ = check.within("discovery.maxDistanceKm", discovery.maxDistanceKm, ProfileRules.maxDistanceKm)
            if !check.list(
                "discovery.genders", discovery.genders, allowed: Set(ProfileRules.genders),
                count: 1...ProfileRules.genders.count)
            {
                discovery.genders = base.genders
            }
            next.discovery = discovery
        }

        guard check.errors.isEmpty else {
            return .failure(
                RequestFailed(
                    code: .validationFailed, detail: "the profile has invalid fields", fieldErrors: check.errors))
        }
        return .success(next)
    }
}

extension ProfileUpdateRequested {
    /// Whether the request leaves a field out.
    func isAbsent(_ field: String) -> Bool {
        switch field {
        case "displayName": displayName == nil
        case "birthdate": birthdate == nil
        case "gender": gender == nil
        case "seeking": seeking == nil
        case "bio": bio == nil
        case "interests": interests == nil
        case "values": values == nil
        case "relationshipIntent": relationshipIntent == nil
        case "heightCm": heightCm == nil
        case "job": job == nil
        case "education": education == nil
        case "languages": languages == nil
        case "timeZone": timeZone == nil
        default: true
        }
    }
}

extension ProfileRecord {
    /// Sets one of `ProfileRules.clearableFields` to nothing.
    mutating func clear(_ field: String) {
        switch field {
        case "bio": bio = nil
        case "interests": interests = nil
        case "values": values = nil
        case "relationshipIntent": relationshipIntent = nil
        case "heightCm": heightCm = nil
        case "job": job = nil
        case "education": education = nil
        case "languages": languages = nil
        case "timeZone": timeZone = nil
        default: break
        }
    }
}

/// IANA time zone names, from the system's time zone database.
enum TimeZoneNames {
    /// The database's names; Foundation's list leaves out `UTC`, which the database has.
    static let known = Set(TimeZone.knownTimeZoneIdentifiers).union(["UTC"])

    /// A name of the database (`Europe/Paris`, `UTC`), not an abbreviation (`CET`, `EST`) or an offset.
    static func isKnown(_ name: String) -> Bool {
        known.contains(name) && TimeZone(identifier: name) != nil
    }
}

/// Collects the errors of one request's fields, named as the client named them.
struct FieldCheck {
    private(set) var errors: [FieldError] = []

    mutating func fail(_ field: String, _ message: String) {
        errors.append(FieldError(field: field, message: message))
    }

    mutating func length(_ field: String, _ text: String, _ range: ClosedRange<Int>) -> Bool {
        guard range.contains(text.count) else {
            fail(field, "must be \(range.lowerBound) to \(range.upperBound) characters")
            return false
        }
        return true
    }

    mutating func within(_ field: String, _ value: Int, _ range: ClosedRange<Int>) -> Bool {
        guard range.contains(value) else {
            fail(field, "must be from \(range.lowerBound) to \(range.upperBound)")
            return false
        }
        return true
    }

    mutating func oneOf(_ field: String, _ value: String, _ allowed: [String]) -> Bool {
        guard allowed.contains(value) else {
            fail(field, "must be one of \(allowed.joined(separator: ", "))")
            return false
        }
        return true
    }

    /// A list of distinct entries of a closed set, with a bounded count.
    mutating func list(
        _ field: String, _ values: [String], allowed: Set<String>, count: ClosedRange<Int>, vocabulary: String? = nil
    ) -> Bool {
        if !count.contains(values.count) {
            fail(field, "must name \(count.lowerBound) to \(count.upperBound) entries")
        } else if let unknown = values.first(where: { !allowed.contains($0) }) {
            let known = vocabulary ?? allowed.sorted().joined(separator: ", ")
            fail(field, "'\(unknown)' is not one of \(known)")
        } else if Set(values).count != values.count {
            fail(field, "must not repeat an entry")
        } else {
            return true
        }
        return false
    }
}

/// A calendar date (no time, no zone), as `YYYY-MM-DD`.
public struct CalendarDate: Sendable, Equatable {
    public let year: Int
    public let month: Int
    public let day: Int

    /// Parses strictly `YYYY-MM-DD` and rejects dates that do not exist (2023-02-30).
    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
            (1...12).contains(month), day >= 1, day <= Self.daysIn(month: month, year: year)
        else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Whole years from this date to `date`, counted in UTC.
    public func age(on date: Date) -> Int {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        let today = calendar.dateComponents([.year, .month, .day], from: date)
        guard let year = today.year, let month = today.month, let day = today.day else { return 0 }
        var age = year - self.year
        if (month, day) < (self.month, self.day) { age -= 1 }
        return age
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}
