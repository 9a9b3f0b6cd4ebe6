import HTTPTypes
import HummingbirdCore
import NIOCore
import NIOHTTPTypes

/// Answers `Expect: 100-continue` with `100 Continue` as soon as the request's head has
/// arrived, as nginx does; Hummingbird does not. Without it a client that asks (curl does
/// for every body over 1 MB: a photo upload) waits a second for the answer that never
/// comes before it sends the body. A request refused without reading its body (401, 413,
/// 415) still gets its final answer; the client then stops sending.
final class ExpectContinueHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(var head) = unwrapInboundIn(data),
            head.headerFields[.expect]?.lowercased() == "100-continue"
        else {
            context.fireChannelRead(data)
            return
        }
        // Answered here: what follows need not (and must not) answer it again.
        head.headerFields[.expect] = nil
        context.writeAndFlush(wrapOutboundOut(.head(HTTPResponse(status: .continue))), promise: nil)
        context.fireChannelRead(wrapInboundOut(.head(head)))
    }
}
