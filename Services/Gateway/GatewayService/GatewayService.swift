import Contracts
import Foundation
import Hummingbird
import Messaging
import ServiceLifecycle
import ServiceRuntime

/// The gateway: the only HTTP ingress. It owns accounts and asks everything else of the
/// other services through events.
public enum GatewayService {
    public static func build(
        runtime: KindredRuntime, reader: inout EnvironmentReader, now: @escaping @Sendable () -> Date = Date.init
    ) throws -> ServiceParts {
        let configuration = GatewayConfiguration(reader: &reader)
        let tokens = AccessTokens(
            keys: configuration.jwtKeys, signingKeyID: configuration.jwtKeyID,
            lifetimeSeconds: configuration.accessTokenSeconds)
        let requests = runtime.requestReplyClient()
        let authenticator = Authenticator(tokens: tokens, now: now)
        let auth = AuthRoutes(
            runtime: runtime, tokens: tokens, authenticator: authenticator, bcryptCost: configuration.bcryptCost,
            failedLogins: FailedLoginLimiter(limit: configuration.loginFailuresPerAccount, now: now), now: now)
        let links = PhotoLinkMinter(
            signer: configuration.mediaURLSigner, publicBase: configuration.mediaPublicURL,
            lifetimeSeconds: configuration.mediaURLSeconds)
        let profile = ProfileRoutes(
            requests: requests, authenticator: authenticator, links: links,
            deadline: configuration.deadline(of:), now: now)
        let hub = LiveEventHub(maxStreamsPerUser: configuration.maxStreamsPerUser)
        let account = AccountRoutes(runtime: runtime, authenticator: authenticator, hub: hub, now: now)
        let listener = LiveEventListener(
            runtime: runtime, hub: hub, retention: .seconds(configuration.liveRetentionHours * 3600))
        let events = EventStreamRoute(
            hub: hub, authenticator: authenticator, runtime: runtime,
            heartbeat: .seconds(configuration.heartbeatSeconds), now: now)
        let logger = runtime.logger
        return ServiceParts(
            migrations: GatewayMigrations.all,
            handlers: [
                UserSuspendedHandler(hub: hub, pool: runtime.pool, now: now),
                UserBannedHandler(hub: hub, pool: runtime.pool, now: now),
                UserReinstatedHandler(), AccountRoleChangedHandler(logger: logger), UserDataErasedHandler(now: now),
            ],
            background: [listener],
            expiring: [listener.expiring, Idempotency.expiring] + AccountStore.expiringRefreshTokens,
            routes: { router in
                router.add(middleware: GatewayMiddleware(logger: logger))
                router.add(middleware: CORSAllowListMiddleware(allowedOrigins: configuration.corsOrigins))
                router.add(
                    middleware: RateLimitMiddleware(
                        auth: RateLimiter(limitPerMinute: configuration.authRequestsPerMinute, now: now),
                        api: RateLimiter(limitPerMinute: configuration.apiRequestsPerMinute, now: now),
                        authenticator: authenticator, proxies: configuration.trustedProxies))
                let idempotency = Idempotency(pool: runtime.pool, authenticator: authenticator, now: now)
                let media = MediaRoutes(
                    requests: requests, authenticator: authenticator, idempotency: idempotency, links: links,
                    deadline: configuration.deadline(of:), now: now)
                let endpoints = GatewayEndpoints(
                    auth: auth, idempotency: idempotency, profile: profile, events: events, account: account,
                    media: media)
                GatewayAPI.table.register(on: router, serving: endpoints)
            })
    }
}
