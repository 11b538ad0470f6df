package dev.syncline.api.rules;

import dev.syncline.api.SqliteValue;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Answers parameter-index look-ups, e.g. from bucket storage as of one checkpoint.
 *
 * <p>Called on the thread that resolves a request; may block on storage.
 */
@FunctionalInterface
public interface ParameterLookupSource {
  /**
   * Returns, for each look-up, the bucket parameter rows stored under it (in insertion order; none
   * for an unknown key).
   */
  Map<ParameterLookup, List<Map<String, SqliteValue>>> lookup(List<ParameterLookup> lookups);

  /**
   * The parameter index of some evaluated parameter rows, held in memory: each look-up gets the
   * bucket parameter rows stored under its key, in the order of {@code evaluations}. For tests,
   * tools and rules evaluated outside the engine (bucket storage keeps its own index). Immutable.
   */
  static ParameterLookupSource of(List<ParameterEvaluation> evaluations) {
    Map<ParameterLookup, List<Map<String, SqliteValue>>> index = new HashMap<>();
    for (ParameterEvaluation evaluation : evaluations) {
      for (ParameterIndexEntry e : evaluation.entries()) {
        index.computeIfAbsent(e.lookup(), k -> new ArrayList<>()).addAll(e.bucketParameters());
      }
    }
    Map<ParameterLookup, List<Map<String, SqliteValue>>> frozen = new HashMap<>();
    index.forEach((k, v) -> frozen.put(k, List.copyOf(v)));
    return lookups -> {
      Map<ParameterLookup, List<Map<String, SqliteValue>>> out = new HashMap<>();
      for (ParameterLookup l : lookups) {
        out.put(l, frozen.getOrDefault(l, List.of()));
      }
      return out;
    };
  }
}
