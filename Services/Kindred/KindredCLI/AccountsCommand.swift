import ArgumentParser
import Contracts
import Foundation
import Messaging

/// `kindred accounts grant|revoke <role> <email>`: an operator gives an account a role (or
/// takes it away) by publishing `AccountRoleChanged`, which the gateway records; the
/// account's next access token carries it (sign in again, or refresh).
struct AccountsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accounts",
        abstract: "Grant or revoke account roles (recorded by the gateway).",
        discussion: """
            Examples:
              kindred accounts grant moderator ada@example.com
              kindred accounts revoke moderator ada@example.com
            Roles: \(AccountRole.allCases.map(\.rawValue).joined(separator: ", ")). The role is in the account's
            access tokens issued after the gateway records it.
            """,
        subcommands: [Grant.self, Revoke.self])

    struct Grant: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "grant", abstract: "Give an account a role.")
        @Argument(help: "The role.") var role: String
        @Argument(help: "The account's e-mail.") var email: String

        func run() async throws {
            try await execute { try await AccountsCommand.change(role, email, granted: true, in: .load()) }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Take a role away.")
        @Argument(help: "The role.") var role: String
        @Argument(help: "The account's e-mail.") var email: String

        func run() async throws {
            try await execute { try await AccountsCommand.change(role, email, granted: false, in: .load()) }
        }
    }

    static func change(_ role: String, _ email: String, granted: Bool, in environment: CLIEnvironment) async throws
        -> String
    {
        guard let parsed = AccountRole(rawValue: role) else {
            throw CLIError(
                "unknown role '\(role)': one of \(AccountRole.allCases.map(\.rawValue).joined(separator: ", "))",
                exitCode: 2)
        }
        let trimmed = email.trimmingCharacters(in: .whitespaces)
        guard trimmed.contains("@"), trimmed.count <= 254 else {
            throw CLIError("'\(email)' is not an e-mail address", exitCode: 2)
        }
        let data = try KindredJSON.sharedEncoder.encode(
            AccountRoleChanged(email: trimmed, role: parsed, granted: granted))
        let broker = try await environment.broker()
        defer { broker.close() }
        let id = try await PublishCommand.publish(
            type: AccountRoleChanged.eventType.rawValue, data: Array(data), subject: nil, correlation: nil, on: broker)
        return
            "\(granted ? "granted" : "revoked") \(parsed.rawValue) (AccountRoleChanged \(id)); it takes effect with the account's next access token"
    }
}
