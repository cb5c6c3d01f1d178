package dev.zksdk.samples;

import java.util.Arrays;

/** Entry point of the samples jar: {@code demo} (the default) or {@code doctor}. */
public final class Main {

  private Main() {}

  public static void main(String[] args) throws Exception {
    String command = args.length == 0 || args[0].startsWith("--") ? "demo" : args[0];
    String[] rest = args.length == 0 || args[0].startsWith("--") ? args : Arrays.copyOfRange(args, 1, args.length);
    int code;
    switch (command) {
      case "demo":
        code = Demo.run(rest, System.out);
        break;
      default:
        System.err.println("unknown command '" + command + "'; commands: demo [--connect <connect string>] "
            + "[--handlers N] [--seconds N]");
        code = 2;
    }
    System.exit(code);
  }
}
