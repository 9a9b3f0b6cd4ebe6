import Foundation
import Hummingbird
import NIOCore

/// The request context of every service's router: Hummingbird's basics plus the address
/// of the connected client, which the gateway's rate limits key on.
public struct KindredRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    /// The user whose access token an earlier middleware already verified for this
    /// request (the gateway's rate limit does), so a handler need not verify it again.
    public var verifiedUserID: UUID?
    /// When that verified token runs out.
    public var verifiedTokenExpiry: Date?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The client's IP address as text, or `unknown`.
    public var clientAddress: String { remoteAddress?.ipAddress ?? "unknown" }
}
