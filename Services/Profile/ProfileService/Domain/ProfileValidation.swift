import Contracts
import Foundation

/// The editable fields of a profile after validation.
public struct ValidProfile: Sendable, Equatable {
    public var displayName: String
    public var birthdate: String
    public var gender: String
    public var seeking: [String]
    public var bio: String
}

/// The rules of a profile, without I/O: `today` is passed in so tests choose the date.
public enum ProfileValidation {
    /// Validates a `PUT` of a profile, naming every missing or invalid field.
    public static func validate(_ request: ProfileUpdateRequested, today: Date) -> Result<ValidProfile, RequestFailed> {
        var errors: [FieldError] = []
        let displayName = request.displayName?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        if request.displayName == nil {
            errors.append(FieldError(field: "displayName", message: "is required"))
        } else if !ProfileRules.displayNameLength.contains(displayName.count) {
            errors.append(
                FieldError(
                    field: "displayName",
                    message:
                        "must be \(ProfileRules.displayNameLength.lowerBound) to \(ProfileRules.displayNameLength.upperBound) characters"
                ))
        }
        let birthdate = request.birthdate ?? ""
        if request.birthdate == nil {
            errors.append(FieldError(field: "birthdate", message: "is required"))
        } else if let born = CalendarDate(birthdate) {
            let age = born.age(on: today)
            if age < ProfileRules.minimumAge {
                errors.append(
                    FieldError(field: "birthdate", message: "users must be at least \(ProfileRules.minimumAge)"))
            } else if age > 120 {
                errors.append(FieldError(field: "birthdate", message: "is not a plausible date of birth"))
            }
        } else {
            errors.append(FieldError(field: "birthdate", message: "must be a date written YYYY-MM-DD"))
        }
        let allowed = ProfileRules.genders.joined(separator: ", ")
        let gender = request.gender ?? ""
        if request.gender == nil {
            errors.append(FieldError(field: "gender", message: "is required"))
        } else if !ProfileRules.genders.contains(gender) {
            errors.append(FieldError(field: "gender", message: "must be one of \(allowed)"))
        }
        let seeking = request.seeking ?? []
        if request.seeking == nil {
            errors.append(FieldError(field: "seeking", message: "is required"))
        } else if seeking.isEmpty {
            errors.append(FieldError(field: "seeking", message: "must name at least one gender"))
        } else if let unknown = seeking.first(where: { !ProfileRules.genders.contains($0) }) {
            errors.append(FieldError(field: "seeking", message: "'\(unknown)' is not one of \(allowed)"))
        } else if Set(seeking).count != seeking.count {
            errors.append(FieldError(field: "seeking", message: "must not repeat a gender"))
        }
        let bio = request.bio ?? ""
        if bio.count > ProfileRules.bioMaxLength {
            errors.append(FieldError(field: "bio", message: "must be at most \(ProfileRules.bioMaxLength) characters"))
        }
        guard errors.isEmpty else {
            return .failure(
                RequestFailed(code: .validationFailed, detail: "the profile has invalid fields", fieldErrors: errors))
        }
        return .success(
            ValidProfile(displayName: displayName, birthdate: birthdate, gender: gender, seeking: seeking, bio: bio))
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
