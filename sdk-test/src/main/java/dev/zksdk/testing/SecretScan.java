package dev.zksdk.testing;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Looks for secrets in text that must not contain them: logs, {@code toString()}s, exception messages and stack
 * traces, diagnostics reports, metrics, health details. Each secret is searched in every form a library could print
 * it in: as is, as hex (zero-padded, and as jute's {@code #} rendering that drops leading zeros), as Base64, and as
 * {@code Arrays.toString} of its bytes.
 *
 * <p>Feed it whatever a flow produced with {@link #check(String, String)} (or {@link #check(String, Throwable)}),
 * then {@link #leaks()} lists each secret found and where. Adding a new place to check (a Micrometer registry's meter
 * names and tags, an Actuator health document) is one more {@code check} call with that place rendered as text.
 *
 * <p>Thread-safe.
 */
public final class SecretScan {

    private final Map<String, Set<String>> forms = new LinkedHashMap<>();
    private final List<String> leaks = new ArrayList<>();
    private int checked;

    /**
     * A secret given as text (a password); it is searched for as is and as its UTF-8 bytes.
     *
     * @param name the secret's name, shown in place of it in {@link #leaks()}
     * @param secret the secret's text
     * @return this scan
     */
    public synchronized SecretScan secret(String name, String secret) {
        if (secret.length() < 6) {
            throw new IllegalArgumentException("secret '" + name + "' is too short to look for without false hits");
        }
        Set<String> f = renderings(secret.getBytes(StandardCharsets.UTF_8));
        f.add(secret);
        forms.put(name, f);
        return this;
    }

    /**
     * A secret given as bytes (a session password); searched for in every byte rendering.
     *
     * @param name the secret's name, shown in place of it in {@link #leaks()}
     * @param secret the secret's bytes
     * @return this scan
     */
    public synchronized SecretScan secret(String name, byte[] secret) {
        if (secret.length < 6) {
            throw new IllegalArgumentException("secret '" + name + "' is too short to look for without false hits");
        }
        forms.put(name, renderings(secret));
        return this;
    }

    private static Set<String> renderings(byte[] bytes) {
        Set<String> f = new LinkedHashSet<>();
        String hex = HexFormat.of().formatHex(bytes);
        f.add(hex);
        f.add(hex.toUpperCase(Locale.ROOT));
        StringBuilder jute = new StringBuilder();
        for (byte b : bytes) {
            jute.append(Integer.toHexString(b & 0xff));
        }
        f.add(jute.toString());
        f.add(Base64.getEncoder().encodeToString(bytes));
        f.add(Base64.getEncoder().withoutPadding().encodeToString(bytes));
        f.add(Arrays.toString(bytes));
        return f;
    }

    /**
     * Searches {@code text}, which came from {@code where}.
     *
     * @param where where the text came from (a log, a message), named in the leaks found
     * @param text the text to search
     * @return this scan
     */
    public synchronized SecretScan check(String where, String text) {
        checked++;
        if (text == null) {
            return this;
        }
        for (Map.Entry<String, Set<String>> secret : forms.entrySet()) {
            for (String form : secret.getValue()) {
                int at = text.indexOf(form);
                if (at >= 0) {
                    int from = Math.max(0, at - 120);
                    int to = Math.min(text.length(), at + form.length() + 40);
                    leaks.add(secret.getKey() + " in " + where + ": ..."
                            + text.substring(from, to).replace(form, "<" + secret.getKey() + ">") + "...");
                    break;
                }
            }
        }
        return this;
    }

    /**
     * Searches an exception's whole rendering: every message in its cause chain and its stack traces.
     *
     * @param where where the exception came from, named in the leaks found
     * @param t the exception
     * @return this scan
     */
    public SecretScan check(String where, Throwable t) {
        StringWriter out = new StringWriter();
        t.printStackTrace(new PrintWriter(out));
        return check(where, t + "\n" + out);
    }

    /**
     * Every secret found so far, with where and the text around it (the secret itself replaced by its name).
     *
     * @return a copy of the leaks, empty when none was found
     */
    public synchronized List<String> leaks() {
        return new ArrayList<>(leaks);
    }

    /**
     * How many texts were searched.
     *
     * @return the number of texts checked
     */
    public synchronized int checkedCount() {
        return checked;
    }

    /**
     * How many secrets are searched for.
     *
     * @return the number of secrets
     */
    public synchronized int secretCount() {
        return forms.size();
    }
}
