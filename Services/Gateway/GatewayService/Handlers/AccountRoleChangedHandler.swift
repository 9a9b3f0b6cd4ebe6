import Contracts
import Foundation
import Logging
import Persistence
import ServiceRuntime

/// `AccountRoleChanged` (an operator's `kindred accounts grant|revoke`) → the role is
/// recorded on the account with that e-mail; its next access token carries it. An e-mail
/// with no account changes nothing (logged, without the address).
struct AccountRoleChangedHandler: EventHandler {
    let logger: Logger

    func handle(_ event: Envelope<AccountRoleChanged>, context: MessageContext, database: DatabaseConnection) throws {
        let email = Credentials.normalise(event.data.email)
        guard
            try AccountStore.setRole(
                event.data.role.rawValue, granted: event.data.granted, email: email, on: database)
        else {
            logger.warning(
                "a role change names no account", metadata: ["event_id": "\(event.id)", "role": "\(event.data.role)"])
            return
        }
    }
}
