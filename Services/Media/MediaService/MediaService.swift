import Contracts
import Foundation
import Persistence
import ServiceRuntime
import SignedURLs

/// The media service: photos, uploaded through the gateway, checked and turned into
/// variants that carry nothing but pixels, kept in a blob store, moderated, and served
/// through signed, expiring URLs.
public enum MediaService {
    /// Builds the service's parts. `now` is the clock every handler reads.
    public static func build(
        runtime: KindredRuntime, reader: inout EnvironmentReader, now: @escaping @Sendable () -> Date = Date.init
    ) throws -> ServiceParts {
        let configuration = try MediaConfiguration(reader: &reader)
        let blobs = try configuration.blobStore()
        let worker = PhotoProcessingWorker(
            pool: runtime.pool, committed: { [relay = runtime.relay] in relay.wake() }, logger: runtime.logger,
            blobs: blobs, autoApprove: configuration.autoApprove, now: now)
        runtime.afterCommit { worker.wake() }
        let origin = MediaOrigin(pool: runtime.pool, blobs: blobs, signer: configuration.signer, now: now)
        return ServiceParts(
            migrations: MediaMigrations.all,
            handlers: [
                PhotoUploadRequestedHandler(now: now), PhotosListRequestedHandler(),
                PhotosReorderRequestedHandler(now: now), PhotoRemovalRequestedHandler(now: now),
                PhotoReviewListRequestedHandler(), PhotoDecisionRequestedHandler(now: now),
                AccountDeletionRequestedHandler(now: now),
            ],
            background: [worker],
            routes: { router in origin.register(on: router) })
    }
}

/// The media service's settings.
struct MediaConfiguration {
    /// `KINDRED_MEDIA_AUTO_APPROVE` (default true, the local default): a photo that passes
    /// its checks is approved at once; otherwise it waits for a moderator.
    var autoApprove: Bool
    /// `KINDRED_MEDIA_DIR` (default `.kindred/media` of the working folder): the directory store.
    var directory: String
    /// `KINDRED_MEDIA_S3_ENDPOINT` (and `_BUCKET`, `_REGION`, `_ACCESS_KEY`, `_SECRET_KEY`):
    /// an S3-compatible store instead of the directory.
    var s3: S3BlobStore.Configuration?
    /// `KINDRED_MEDIA_URL_KEYS` (`kid:hex,…`, secret, shared with the gateway) and
    /// `KINDRED_MEDIA_URL_KEY_ID` (default `k1`).
    var signer: MediaURLSigner

    init(reader: inout EnvironmentReader) throws {
        signer = MediaURLSigner.configured(by: &reader)
        autoApprove = reader.string("KINDRED_MEDIA_AUTO_APPROVE", default: "true") != "false"
        directory = reader.string("KINDRED_MEDIA_DIR", default: ".kindred/media")
        let endpoint = reader.string("KINDRED_MEDIA_S3_ENDPOINT", default: "")
        if endpoint.isEmpty {
            s3 = nil
        } else {
            s3 = S3BlobStore.Configuration(
                endpoint: endpoint, bucket: reader.string("KINDRED_MEDIA_S3_BUCKET", default: "kindred-media"),
                region: reader.string("KINDRED_MEDIA_S3_REGION", default: "us-east-1"),
                accessKey: reader.string("KINDRED_MEDIA_S3_ACCESS_KEY", default: ""),
                secretKey: reader.string("KINDRED_MEDIA_S3_SECRET_KEY", default: ""))
        }
    }

    func blobStore() throws -> any BlobStore {
        if let s3 { return try S3BlobStore(s3) }
        return try DirectoryBlobStore(root: URL(fileURLWithPath: directory, isDirectory: true))
    }
}
