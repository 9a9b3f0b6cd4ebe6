#ifndef KINDRED_CRABBITMQ_SHIM_H
#define KINDRED_CRABBITMQ_SHIM_H

// rabbitmq-c 0.11 (Debian 12) keeps its headers flat; 0.12+ moves them under rabbitmq-c/.
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <amqp_ssl_socket.h>
#include <amqp_framing.h>
#include <stdio.h>
#include <sys/eventfd.h>

// The owner thread's wake-up descriptor (eventfd's flags are macros Swift cannot see).
static inline int kindred_wake_descriptor(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

// amqp_login is variadic, which Swift cannot call: this wraps the PLAIN mechanism.
static inline amqp_rpc_reply_t kindred_amqp_login_plain(amqp_connection_state_t state,
                                                        const char *vhost, int channel_max,
                                                        int frame_max, int heartbeat,
                                                        const char *user, const char *password) {
    return amqp_login(state, vhost, channel_max, frame_max, heartbeat, AMQP_SASL_METHOD_PLAIN,
                      user, password);
}


// Method ids are macros with casts, which Swift does not import: name them as constants.
static const amqp_method_number_t kindred_basic_ack_method = AMQP_BASIC_ACK_METHOD;
static const amqp_method_number_t kindred_basic_nack_method = AMQP_BASIC_NACK_METHOD;
static const amqp_method_number_t kindred_basic_return_method = AMQP_BASIC_RETURN_METHOD;
static const amqp_method_number_t kindred_basic_deliver_method = AMQP_BASIC_DELIVER_METHOD;
static const amqp_method_number_t kindred_basic_cancel_method = AMQP_BASIC_CANCEL_METHOD;
static const amqp_method_number_t kindred_channel_close_method = AMQP_CHANNEL_CLOSE_METHOD;
static const amqp_method_number_t kindred_connection_close_method = AMQP_CONNECTION_CLOSE_METHOD;
static const amqp_method_number_t kindred_connection_blocked_method = AMQP_CONNECTION_BLOCKED_METHOD;
static const amqp_method_number_t kindred_connection_unblocked_method = AMQP_CONNECTION_UNBLOCKED_METHOD;

// Writes a one-line description of a failed RPC reply (server close with code and text,
// or a library error) into `buffer`.
static inline void kindred_amqp_describe_reply(amqp_rpc_reply_t reply, char *buffer, size_t length) {
    switch (reply.reply_type) {
    case AMQP_RESPONSE_NORMAL:
        snprintf(buffer, length, "ok");
        return;
    case AMQP_RESPONSE_NONE:
        snprintf(buffer, length, "missing RPC reply");
        return;
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
        snprintf(buffer, length, "%s", amqp_error_string2(reply.library_error));
        return;
    case AMQP_RESPONSE_SERVER_EXCEPTION:
        if (reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD && reply.reply.decoded) {
            amqp_connection_close_t *m = (amqp_connection_close_t *)reply.reply.decoded;
            snprintf(buffer, length, "connection closed by server: %u %.*s", m->reply_code,
                     (int)m->reply_text.len, (char *)m->reply_text.bytes);
        } else if (reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD && reply.reply.decoded) {
            amqp_channel_close_t *m = (amqp_channel_close_t *)reply.reply.decoded;
            snprintf(buffer, length, "channel closed by server: %u %.*s", m->reply_code,
                     (int)m->reply_text.len, (char *)m->reply_text.bytes);
        } else {
            snprintf(buffer, length, "server exception, method 0x%08X", reply.reply.id);
        }
        return;
    }
    snprintf(buffer, length, "unknown reply type %d", (int)reply.reply_type);
}

// The reply code and text of a channel.close or connection.close method frame.
static inline void kindred_amqp_describe_close(amqp_method_t method, char *buffer, size_t length) {
    amqp_rpc_reply_t reply;
    reply.reply_type = AMQP_RESPONSE_SERVER_EXCEPTION;
    reply.reply = method;
    reply.library_error = 0;
    kindred_amqp_describe_reply(reply, buffer, length);
}

// Answers a server's channel.close so the channel number can be opened again.
static inline int kindred_amqp_channel_close_ok(amqp_connection_state_t state, amqp_channel_t channel) {
    amqp_channel_close_ok_t close_ok;
    close_ok.dummy = 0;
    return amqp_send_method(state, channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &close_ok);
}

// The reply code of a server exception that closed a channel (404, 403, 406 …), else 0.
static inline unsigned kindred_amqp_channel_close_code(amqp_rpc_reply_t reply) {
    if (reply.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION && reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD &&
        reply.reply.decoded) {
        return ((amqp_channel_close_t *)reply.reply.decoded)->reply_code;
    }
    return 0;
}

#endif
