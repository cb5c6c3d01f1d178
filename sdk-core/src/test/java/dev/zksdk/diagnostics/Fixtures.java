package dev.zksdk.diagnostics;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * Answers captured from real ZooKeeper 3.9.4 servers (a curator-test 3-member TestingCluster with tickTime=200,
 * minSessionTimeout=400, maxSessionTimeout=4000, maxClientCnxns=10, and a standalone TestingServer), byte for byte
 * as {@code FourLetterWordMain.send4LetterWord} returned them.
 */
final class Fixtures {

    private Fixtures() {}

    static String text(String name) {
        try (InputStream in = Fixtures.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("missing fixture " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A member that answered every word, built from captured answers (edited by the caller where a test needs it). */
    static MemberProbe member(String address, String srvr, String conf, String mntr, String cons, String wchs) {
        MemberProbe p = new MemberProbe(WordParsers.splitHostPort(address), true);
        p.reachable = true;
        for (String word : MemberProber.WORDS) {
            p.answers.put(word, "4lw");
        }
        p.srvr = WordParsers.parseSrvr(srvr);
        // All members share one captured conf; each gets its own myid, taken from the last digit of its address.
        String host = p.address.host();
        p.conf = conf == null
                ? null
                : WordParsers.parseConf(
                        conf.replaceFirst("serverId=\\d+", "serverId=" + host.charAt(host.length() - 1)));
        p.mntr = mntr == null ? null : WordParsers.parseMntr(mntr);
        p.cons = cons == null ? null : WordParsers.parseCons(cons);
        p.watches = wchs == null ? null : WordParsers.parseWchs(wchs);
        return p;
    }

    static MemberProbe leader(String address) {
        return member(
                address,
                text("srvr-leader.txt"),
                text("conf-quorum.txt"),
                text("mntr-leader.txt"),
                text("cons-follower.txt"),
                text("wchs-follower.txt"));
    }

    static MemberProbe follower(String address) {
        return member(
                address,
                text("srvr-follower.txt"),
                text("conf-quorum.txt"),
                text("mntr-follower.txt"),
                text("cons-follower.txt"),
                text("wchs-follower.txt"));
    }

    static MemberProbe notServing(String address) {
        MemberProbe p = new MemberProbe(WordParsers.splitHostPort(address), true);
        p.reachable = true;
        p.notServing = WordParsers.isNotServing(text("srvr-not-serving.txt"));
        return p;
    }

    static MemberProbe unreachable(String address, String problem) {
        MemberProbe p = new MemberProbe(WordParsers.splitHostPort(address), true);
        p.problem = problem;
        return p;
    }
}
