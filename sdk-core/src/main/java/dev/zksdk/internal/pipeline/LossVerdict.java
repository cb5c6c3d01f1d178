package dev.zksdk.internal.pipeline;

/**
 * What the server's state says about a write attempt that was lost in flight: applied (with the result it had),
 * provably not applied (it may be sent again as a new attempt), or not knowable.
 */
final class LossVerdict<T> {

    enum Kind {
        APPLIED,
        NOT_APPLIED,
        UNKNOWN
    }

    final Kind kind;
    final T value;
    final String reason;

    private LossVerdict(Kind kind, T value, String reason) {
        this.kind = kind;
        this.value = value;
        this.reason = reason;
    }

    static <T> LossVerdict<T> applied(T value) {
        return new LossVerdict<>(Kind.APPLIED, value, null);
    }

    static <T> LossVerdict<T> notApplied() {
        return new LossVerdict<>(Kind.NOT_APPLIED, null, null);
    }

    /** @param reason why it cannot be told, for the exception's message */
    static <T> LossVerdict<T> unknown(String reason) {
        return new LossVerdict<>(Kind.UNKNOWN, null, reason);
    }
}
