package dev.syncline.examples.rules;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.syncline.api.ErrorCode;
import dev.syncline.api.SynclineException;
import dev.syncline.api.rules.InclusionReason.Subscription;
import dev.syncline.api.rules.Problem;
import dev.syncline.api.rules.RequestContext;
import dev.syncline.api.rules.ResolvedBucket;
import dev.syncline.api.rules.Severity;
import dev.syncline.api.rules.SyncRules;
import dev.syncline.api.rules.SyncRulesException;
import dev.syncline.api.rules.SyncRulesSource;
import dev.syncline.core.rules.SyncRulesCompiler;
import dev.syncline.testkit.SyncRulesTester;
import dev.syncline.testkit.SyncedRow;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * Command-line tool for sync-rules files.
 *
 * <pre>
 * check   RULES.yaml                    validate; print every problem as file:line:column
 * explain RULES.yaml --user ID [--claims JSON] [--params JSON] [--rows DIR]
 *                                       the buckets that user gets and, given rows, the rows they receive
 * (no arguments)                        check and explain the bundled sample for users alice and bob
 * </pre>
 *
 * <p>A rows directory holds one file per table: {@code <table>.json} (an array of objects) or
 * {@code <table>.csv}. Exit status: 0 success, 1 invalid rules, 2 bad usage or unreadable input.
 */
public final class RulesTool {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final PrintStream out;

  RulesTool(PrintStream out) {
    this.out = out;
  }

  /** Entry point. */
  public static void main(String[] args) {
    // An application may configure its libraries: keep jOOQ's banner out of the tool's output.
    System.setProperty("org.jooq.no-logo", "true");
    System.setProperty("org.jooq.no-tips", "true");
    System.exit(new RulesTool(System.out).run(args));
  }

  /** Runs a command; returns the exit status. */
  int run(String[] args) {
    try {
      if (args.length == 0) {
        return sample();
      }
      switch (args[0]) {
        case "check" -> {
          if (args.length != 2) {
            return usage();
          }
          return check(SyncRulesSource.ofFile(Path.of(args[1])));
        }
        case "explain" -> {
          return explain(args);
        }
        case "-h", "--help", "help" -> {
          usage(out);
          return 0;
        }
        default -> {
          return usage();
        }
      }
    } catch (SyncRulesException e) {
      printProblems(e.problems(), "rules");
      return 1;
    } catch (SynclineException e) {
      out.println("error: " + e.getMessage());
      return 2;
    }
  }

  private int usage() {
    usage(out);
    return 2;
  }

  private static void usage(PrintStream out) {
    out.println(
        """
        usage:
          check   RULES.yaml                      validate; print every problem as file:line:column
          explain RULES.yaml --user ID [--claims JSON] [--params JSON] [--subscribe STREAM[=JSON]]...
                  [--no-defaults] [--rows DIR]    buckets a user gets and, given rows, the rows they receive;
                                                  --subscribe adds a Sync Streams subscription with parameters
          (no arguments)                          check and explain the bundled sample rules""");
  }

  private int check(SyncRulesSource source) {
    List<Problem> problems = SyncRulesCompiler.builder().build().check(source);
    printProblems(problems, source.origin());
    if (problems.stream().anyMatch(p -> p.severity() == Severity.FATAL)) {
      return 1;
    }
    SyncRules rules = SyncRulesCompiler.compile(source);
    out.println(
        source.origin()
            + ": OK, "
            + rules.definitions().size()
            + " definitions, "
            + problems.size()
            + " warnings; tables: "
            + rules.sourceTables());
    return 0;
  }

  private void printProblems(List<Problem> problems, String origin) {
    for (Problem p : problems) {
      out.println(origin + ":" + p);
    }
  }

  private int explain(String[] args) {
    if (args.length < 2) {
      return usage();
    }
    SyncRulesSource source = SyncRulesSource.ofFile(Path.of(args[1]));
    String user = null;
    Map<String, @Nullable Object> claims = new LinkedHashMap<>();
    Map<String, @Nullable Object> params = Map.of();
    Path rows = null;
    List<RequestContext.Subscription> subscriptions = new ArrayList<>();
    boolean defaults = true;
    for (int i = 2; i < args.length; i++) {
      if (args[i].equals("--no-defaults")) {
        defaults = false;
        continue;
      }
      if (i + 1 >= args.length) {
        return usage();
      }
      switch (args[i]) {
        case "--subscribe" -> {
          String spec = args[++i];
          int eq = spec.indexOf('=');
          subscriptions.add(
              new RequestContext.Subscription(
                  eq < 0 ? spec : spec.substring(0, eq),
                  eq < 0 ? Map.of() : jsonObject(spec.substring(eq + 1), "--subscribe"),
                  null));
        }
        case "--user" -> user = args[++i];
        case "--claims" -> claims.putAll(jsonObject(args[++i], "--claims"));
        case "--params" -> params = jsonObject(args[++i], "--params");
        case "--rows" -> rows = Path.of(args[++i]);
        default -> {
          return usage();
        }
      }
    }
    if (user == null && !claims.containsKey("sub")) {
      out.println("error: explain needs --user ID (or a \"sub\" in --claims)");
      return 2;
    }
    if (user != null) {
      claims.put("sub", user);
    }
    SyncRulesTester tester = SyncRulesTester.of(SyncRulesCompiler.compile(source), "public");
    if (rows != null) {
      loadRows(tester, rows);
    }
    printView(tester.forRequest(new RequestContext(claims, params, defaults, subscriptions)));
    return 0;
  }

  private Map<String, @Nullable Object> jsonObject(String text, String option) {
    try {
      @SuppressWarnings("unchecked")
      Map<String, @Nullable Object> m = JSON.readValue(text, LinkedHashMap.class);
      return m;
    } catch (IOException e) {
      throw new SynclineException(
          ErrorCode.INVALID_ARGUMENT, option + " must be a JSON object: " + e.getMessage());
    }
  }

  private void loadRows(SyncRulesTester tester, Path dir) {
    if (!Files.isDirectory(dir)) {
      throw new SynclineException(ErrorCode.INVALID_INPUT_FILE, "not a directory: " + dir);
    }
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.sorted().toList()) {
        String name = f.getFileName().toString();
        if (name.endsWith(".json") || name.endsWith(".csv")) {
          addRows(tester, name, Files.readString(f, StandardCharsets.UTF_8));
        }
      }
    } catch (IOException e) {
      throw new SynclineException(ErrorCode.INVALID_INPUT_FILE, "cannot read " + dir + ": " + e, e);
    }
  }

  private static void addRows(SyncRulesTester tester, String fileName, String content) {
    String table = fileName.substring(0, fileName.lastIndexOf('.'));
    for (Map<String, @Nullable Object> row : RowFiles.parse(fileName, content)) {
      tester.row(table, row);
    }
  }

  private void printView(SyncRulesTester.UserView view) {
    out.println(
        "user " + view.request().userId() + " receives " + view.buckets().size() + " buckets:");
    for (ResolvedBucket b : view.buckets()) {
      out.println(
          "  "
              + b.bucket().name()
              + "  (priority "
              + b.priority()
              + ", "
              + b.reasons().stream()
                  .map(
                      r ->
                          r instanceof Subscription sub ? "subscription " + sub.index() : "default")
                  .distinct()
                  .collect(Collectors.joining(", "))
              + ")");
    }
    out.println("and " + view.rows().size() + " rows:");
    for (SyncedRow r : view.rows()) {
      out.println("  " + r.table() + "/" + r.id() + " in " + r.bucket().name() + ": " + r.data());
    }
    if (!view.errors().isEmpty()) {
      out.println("evaluation errors:");
      view.errors().forEach(e -> out.println("  " + e.definition() + ": " + e.message()));
    }
  }

  private int sample() {
    String yaml = resource("sample/sync-rules.yaml");
    SyncRulesSource source = SyncRulesSource.ofYaml(yaml, "sample/sync-rules.yaml");
    out.println(
        "Syncline rules tool: checking and explaining the bundled sample (run with --help for usage).");
    out.println();
    int status = check(source);
    if (status != 0) {
      return status;
    }
    SyncRulesTester tester = SyncRulesTester.of(SyncRulesCompiler.compile(source), "public");
    for (String file : resource("sample/rows/tables.txt").split("\n", -1)) {
      if (!file.isBlank()) {
        addRows(tester, file.strip(), resource("sample/rows/" + file.strip()));
      }
    }
    for (String user : List.of("alice", "bob")) {
      out.println();
      printView(tester.forUser(user));
    }
    out.println();
    out.println("where bob's private todo lands, and why alice does not receive it:");
    String explanation =
        tester.explain(
            "todos",
            Map.of(
                "id",
                "7c2d1e00-0000-4000-8000-000000000004",
                "list_id",
                "0b7b6c1e-5a7b-4a5e-9f0e-2d0a7f3c1a03"));
    List<String> lines = new ArrayList<>(List.of(explanation.split("\n")));
    lines.forEach(l -> out.println("  " + l));
    List<String> shared =
        tester.forUser("alice").bucketNames().stream().filter(explanation::contains).toList();
    out.println(shared.isEmpty() ? "  alice has none of these buckets." : "  alice has " + shared);
    return 0;
  }

  private static String resource(String name) {
    try (InputStream in = RulesTool.class.getClassLoader().getResourceAsStream(name)) {
      if (in == null) {
        throw new SynclineException(ErrorCode.INVALID_INPUT_FILE, "missing resource " + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new SynclineException(ErrorCode.INVALID_INPUT_FILE, "cannot read " + name, e);
    }
  }
}
