package dev.syncline.core.internal.rules;

import dev.syncline.api.SqliteValue;
import dev.syncline.api.rules.ParameterEvaluation;
import dev.syncline.api.rules.ParameterIndexEntry;
import dev.syncline.api.rules.ParameterLookup;
import dev.syncline.api.rules.ParameterLookupSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A parameter index in memory: look-up key to the bucket parameter rows stored under it, in
 * insertion order. Not thread-safe; for tests, tools and conformance runs (storage implementations
 * keep their own).
 */
public final class ParameterIndex implements ParameterLookupSource {
  private final Map<ParameterLookup, List<Map<String, SqliteValue>>> entries = new HashMap<>();

  /** Adds the entries of one evaluated parameter row. */
  public void add(ParameterEvaluation evaluation) {
    for (ParameterIndexEntry e : evaluation.entries()) {
      entries.computeIfAbsent(e.lookup(), k -> new ArrayList<>()).addAll(e.bucketParameters());
    }
  }

  @Override
  public Map<ParameterLookup, List<Map<String, SqliteValue>>> lookup(
      List<ParameterLookup> lookups) {
    Map<ParameterLookup, List<Map<String, SqliteValue>>> out = new HashMap<>();
    for (ParameterLookup l : lookups) {
      out.put(l, List.copyOf(entries.getOrDefault(l, List.of())));
    }
    return out;
  }
}
