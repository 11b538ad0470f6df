package dev.syncline.core.rules;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.SynclineException;
import dev.syncline.api.rules.Problem;
import dev.syncline.api.rules.Severity;
import dev.syncline.api.rules.SyncRules;
import dev.syncline.api.rules.SyncRulesException;
import dev.syncline.api.rules.SyncRulesSource;
import dev.syncline.core.internal.rules.plan.CompiledSyncRules;
import dev.syncline.core.internal.rules.plan.SyncConfigReader;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Compiles PowerSync-compatible sync rules into {@link SyncRules}: {@code bucket_definitions}
 * (editions 1 and 2) and Sync Streams ({@code streams:}, editions 2 and 3).
 *
 * <pre>{@code
 * SyncRules rules = SyncRulesCompiler.compile(SyncRulesSource.ofFile(Path.of("sync-rules.yaml")));
 * }</pre>
 *
 * <p>Compilation either returns rules (with {@link SyncRules#warnings()}) or throws a {@link
 * SyncRulesException} listing every problem with its line and column. Instances are immutable and
 * thread-safe.
 */
public final class SyncRulesCompiler {
  private final String defaultSchema;
  private final @Nullable Map<String, List<String>> schema;
  private final @Nullable Integer bucketVersion;
  private final Map<String, Integer> bucketVersions;
  private final boolean dangerousQueriesAreWarnings;

  private SyncRulesCompiler(Builder b) {
    this.defaultSchema = b.defaultSchema;
    this.schema = b.schema;
    this.bucketVersion = b.bucketVersion;
    this.bucketVersions = Map.copyOf(b.bucketVersions);
    this.dangerousQueriesAreWarnings = b.dangerousQueriesAreWarnings;
  }

  private SyncConfigReader reader(SyncRulesSource source) {
    return new SyncConfigReader(source.yaml(), defaultSchema, schema, bucketVersion)
        .dangerousQueriesAreWarnings(dangerousQueriesAreWarnings)
        .bucketVersions(bucketVersions);
  }

  /**
   * Compiles with the defaults (schema {@code public}, no source schema, unversioned bucket ids).
   */
  public static SyncRules compile(SyncRulesSource source) {
    return builder().build().compileRules(source);
  }

  /** A compiler with options. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Compiles {@code source}.
   *
   * @throws SyncRulesException when any fatal problem is found; it lists every problem, warnings
   *     included
   */
  public SyncRules compileRules(SyncRulesSource source) {
    Objects.requireNonNull(source, "source");
    SyncConfigReader reader = reader(source);
    List<Problem> problems = reader.read();
    if (problems.stream().anyMatch(p -> p.severity() == Severity.FATAL)) {
      throw new SyncRulesException(source.origin(), problems);
    }
    return new CompiledSyncRules(source, reader, problems, defaultSchema);
  }

  /**
   * Checks {@code source} and returns every problem without throwing (an empty list means valid and
   * no warnings).
   */
  public List<Problem> check(SyncRulesSource source) {
    return reader(source).read();
  }

  /** Builds a {@link SyncRulesCompiler}. Not thread-safe. */
  public static final class Builder {
    private String defaultSchema = "public";
    private @Nullable Map<String, List<String>> schema;
    private @Nullable Integer bucketVersion;
    private Map<String, Integer> bucketVersions = Map.of();
    private boolean dangerousQueriesAreWarnings;

    private Builder() {}

    /**
     * Accepts parameter queries and streams whose buckets depend only on client-controlled values
     * ({@code request.parameters()}, {@code user_parameters}, {@code subscription.*}, {@code
     * connection.*}) with a warning, as PowerSync does. By default they are errors, because any
     * client can then ask for any such bucket; a definition or stream can also opt in with {@code
     * accept_potentially_dangerous_queries: true}.
     */
    public Builder warnOnDangerousQueries() {
      this.dangerousQueriesAreWarnings = true;
      return this;
    }

    /** The schema of unqualified table names; default {@code public}. */
    public Builder defaultSchema(String defaultSchema) {
      this.defaultSchema = Objects.requireNonNull(defaultSchema, "defaultSchema");
      return this;
    }

    /**
     * The source database's tables ({@code schema.table} to its column names), to warn about
     * unknown tables and columns. By default none is known and nothing is checked.
     */
    public Builder sourceSchema(Map<String, List<String>> tables) {
      Map<String, List<String>> copy = new LinkedHashMap<>();
      tables.forEach((k, v) -> copy.put(k, List.copyOf(v)));
      this.schema = Map.copyOf(copy);
      return this;
    }

    /**
     * Prefixes bucket ids with {@code <version>#} (versioned bucket ids, PowerSync protocol §5.1).
     */
    public Builder bucketVersion(int version) {
      if (version < 1) {
        throw new SynclineException(
            ErrorCode.INVALID_ARGUMENT, "bucket version must be positive, got " + version);
      }
      this.bucketVersion = version;
      return this;
    }

    /**
     * Prefixes the bucket ids of the named bucket definitions with another version than {@link
     * #bucketVersion}: a definition a rules deployment did not change keeps the ids it had, so
     * clients keep its buckets.
     */
    public Builder bucketVersions(Map<String, Integer> versions) {
      versions.forEach(
          (name, v) -> {
            if (v == null || v < 1) {
              throw new SynclineException(
                  ErrorCode.INVALID_ARGUMENT, "bucket version of " + name + " must be positive");
            }
          });
      this.bucketVersions = Map.copyOf(versions);
      return this;
    }

    /** The compiler. */
    public SyncRulesCompiler build() {
      return new SyncRulesCompiler(this);
    }
  }
}
