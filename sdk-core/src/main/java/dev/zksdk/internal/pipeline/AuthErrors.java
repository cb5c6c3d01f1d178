package dev.zksdk.internal.pipeline;

import dev.zksdk.ZkAuthException;
import org.apache.zookeeper.KeeperException.Code;

/**
 * Words for authentication and authorization failures: what identity the session has (never a secret), and what
 * the server refused. ZooKeeper's bare {@code NOAUTH} says neither; and digest credentials are never checked at
 * connect time (the server turns any {@code user:password} into an identity), so a wrong password only ever shows as
 * {@code NOAUTH}. Both codes are final: the pipeline never retries them.
 */
public final class AuthErrors {

    private AuthErrors() {}

    /** A clearer {@link ZkAuthException} for a failed operation, or {@code e} itself when it is not one. */
    public static RuntimeException explain(RuntimeException e, ZkCall<?> call, Connection session) {
        if (!(e instanceof ZkAuthException)) {
            return e;
        }
        ZkAuthException auth = (ZkAuthException) e;
        String path = auth.path() != null ? auth.path() : call.path;
        if (auth.code() == Code.NOAUTH) {
            return new ZkAuthException(
                    Code.NOAUTH,
                    path,
                    call.name + " " + path + ": NOAUTH: " + what(call.name)
                            + " this session's identity (" + session.identities()
                            + "). A wrong digest password is not refused "
                            + "at connect time, it is a different identity, so check the credentials as well as the ACL. Not retried.",
                    auth);
        }
        if (auth.code() == Code.AUTHFAILED) {
            ZkAuthException failure = session.authFailure();
            // A new exception even for the session's own failure: its stack then shows this caller.
            return new ZkAuthException(
                    Code.AUTHFAILED,
                    path,
                    call.name + " " + path + ": "
                            + (failure != null
                                    ? failure.getMessage()
                                    : "AUTHFAILED: the server refused this session's credentials ("
                                            + session.identities() + "). Not retried."),
                    auth);
        }
        return e;
    }

    private static String what(String operation) {
        switch (operation) {
            case "getData":
            case "getChildren":
            case "exists":
                return "the node's ACL does not grant READ to";
            case "setData":
                return "the node's ACL does not grant WRITE to";
            case "create":
                return "the parent node's ACL does not grant CREATE to";
            case "delete":
                return "the parent node's ACL does not grant DELETE to";
            default:
                return "an ACL on the way does not grant the needed permission to";
        }
    }
}
