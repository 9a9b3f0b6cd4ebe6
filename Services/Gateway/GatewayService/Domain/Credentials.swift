import Contracts
import Foundation

/// E-mail and password rules for registration, without I/O.
public enum Credentials {
    public static let passwordLength = 8...72  // bcrypt reads at most 72 bytes

    public struct Valid: Sendable, Equatable {
        public let email: String
        public let password: String
    }

    /// Lower-cased, trimmed e-mail, or the field errors of the pair.
    public static func validate(email: String?, password: String?) -> Result<Valid, InvalidFields> {
        var errors: [FieldError] = []
        let normalised = normalise(email ?? "")
        if email == nil {
            errors.append(FieldError(field: "email", message: "is required"))
        } else if !isPlausibleEmail(normalised) {
            errors.append(FieldError(field: "email", message: "must be an e-mail address"))
        }
        if let password {
            if !passwordLength.contains(password.utf8.count) {
                errors.append(
                    FieldError(
                        field: "password",
                        message: "must be \(passwordLength.lowerBound) to \(passwordLength.upperBound) bytes long"))
            }
        } else {
            errors.append(FieldError(field: "password", message: "is required"))
        }
        guard errors.isEmpty, let password else { return .failure(InvalidFields(errors: errors)) }
        return .success(Valid(email: normalised, password: password))
    }

    /// The form e-mails are stored and looked up in: trimmed and lower-cased.
    public static func normalise(_ email: String) -> String {
        email.trimmingCharacters(in: .whitespaces).lowercased()
    }

    /// One `@`, something before it, a dot in the domain, no spaces, at most 254 bytes.
    static func isPlausibleEmail(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard text.utf8.count <= 254, parts.count == 2, !parts[0].isEmpty, parts[1].contains("."),
            !parts[1].hasPrefix("."), !parts[1].hasSuffix("."), !text.contains(where: \.isWhitespace)
        else { return false }
        return true
    }
}

/// The invalid fields of a request, as an error.
public struct InvalidFields: Error, Equatable {
    public let errors: [FieldError]
}
