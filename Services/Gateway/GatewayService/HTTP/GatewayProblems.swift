import Foundation
import Hummingbird
import ServiceRuntime

/// The problems only the gateway answers with: sign-in and the request/reply deadline.
/// The ones every HTTP server shares (`validation`, `malformedBody`, `unavailable`) live with
/// `Problem` in ServiceRuntime.
extension Problem {
    static let unauthenticated = Problem(
        status: .unauthorized, type: "unauthenticated", title: "Sign in first",
        detail: "send an access token as 'Authorization: Bearer <token>'")

    static let suspended = Problem(
        status: .forbidden, type: "account-suspended", title: "This account is suspended or being deleted")

    static let badCredentials = Problem(
        status: .unauthorized, type: "bad-credentials", title: "Wrong e-mail or password")

    static let timeout = Problem(
        status: .gatewayTimeout, type: "timeout", title: "No answer in time",
        detail: "the service did not answer before the deadline; retrying is safe")
}
