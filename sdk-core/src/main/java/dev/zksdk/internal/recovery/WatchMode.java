package dev.zksdk.internal.recovery;

/** What a registered watch covers. */
public enum WatchMode {
    /** One node: creation, data changes, deletion. */
    NODE,
    /** One node and its list of children. */
    CHILDREN,
    /** A node and every node below it, recursively. */
    TREE
}
