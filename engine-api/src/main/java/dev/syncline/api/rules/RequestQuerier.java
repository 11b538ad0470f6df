package dev.syncline.api.rules;

import java.util.ArrayList;
import java.util.List;

/**
 * The buckets of one request: those known from the request alone, and those that need
 * parameter-index look-ups. Immutable; obtained from {@link SyncRules#querier(RequestContext)}.
 */
public interface RequestQuerier {
  /** Buckets that need no storage look-up, merged (one entry per bucket). */
  List<ResolvedBucket> staticBuckets();

  /** Whether {@link #dynamicBuckets(ParameterLookupSource)} can return anything. */
  boolean hasDynamicBuckets();

  /**
   * Buckets found through parameter-index look-ups, merged; may call {@code source} several times.
   */
  List<ResolvedBucket> dynamicBuckets(ParameterLookupSource source);

  /** Errors resolving the request (e.g. a parameter that must be an array is not). */
  List<EvaluationError> errors();

  /**
   * All buckets of the request: the static ones, then the dynamic ones (each list merged on its
   * own, as the reference does).
   */
  default List<ResolvedBucket> allBuckets(ParameterLookupSource source) {
    List<ResolvedBucket> dynamic = hasDynamicBuckets() ? dynamicBuckets(source) : List.of();
    if (dynamic.isEmpty()) {
      return staticBuckets();
    }
    var all = new ArrayList<>(staticBuckets());
    all.addAll(dynamic);
    return List.copyOf(all);
  }
}
