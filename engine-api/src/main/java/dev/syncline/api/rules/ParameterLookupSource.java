package dev.syncline.api.rules;

import dev.syncline.api.SqliteValue;
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
}
