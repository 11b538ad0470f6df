package dev.syncline.core.internal.rules.plan;

import dev.syncline.api.BucketId;
import dev.syncline.api.SqliteValue;
import dev.syncline.api.rules.EvaluationError;
import dev.syncline.api.rules.InclusionReason;
import dev.syncline.api.rules.ParameterLookup;
import dev.syncline.api.rules.ParameterLookupSource;
import dev.syncline.api.rules.RequestContext;
import dev.syncline.api.rules.ResolvedBucket;
import dev.syncline.core.internal.rules.eval.SqlValues;
import dev.syncline.core.internal.rules.plan.StreamPlan.BucketParameter;
import dev.syncline.core.internal.rules.plan.StreamPlan.KeyPart;
import dev.syncline.core.internal.rules.plan.StreamPlan.LookupNode;
import dev.syncline.core.internal.rules.plan.StreamPlan.LookupOutput;
import dev.syncline.core.internal.rules.plan.StreamPlan.RequestArray;
import dev.syncline.core.internal.rules.plan.StreamPlan.RequestValue;
import dev.syncline.core.internal.rules.plan.StreamPlan.Source;
import dev.syncline.core.internal.rules.plan.StreamPlan.StreamRequest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Resolves the stream buckets of one request. Every (stream, subscription) pair the request asks
 * for is evaluated against each variant of the stream: values from the request are computed when
 * the querier is built (so problems with a subscription's parameters are reported per
 * subscription), look-ups are resolved in rounds by {@link #dynamicBuckets}, deepest first.
 * Immutable once built; {@link #dynamicBuckets} keeps its state on the stack.
 */
final class StreamQuerier {
  /** One variant evaluated for one subscription, with the request values computed. */
  private record Item(
      StreamPlan.Stream stream,
      StreamPlan.Variant variant,
      int priority,
      InclusionReason reason,
      List<@Nullable List<@Nullable Object>> parameterValues,
      Map<LookupNode, List<@Nullable List<@Nullable Object>>> keyValues,
      List<LookupNode> lookups) {}

  private final List<ResolvedBucket> staticBuckets = new ArrayList<>();
  private final List<Item> pending = new ArrayList<>();
  private final List<EvaluationError> errors = new ArrayList<>();

  StreamQuerier(
      List<StreamPlan.Stream> streams, RequestContext request, RequestParameters parameters) {
    for (StreamPlan.Stream stream : streams) {
      List<Integer> subscriptions = new ArrayList<>();
      for (int i = 0; i < request.subscriptions().size(); i++) {
        if (request.subscriptions().get(i).stream().equals(stream.name())) {
          subscriptions.add(i);
        }
      }
      for (int index : subscriptions) {
        RequestContext.Subscription s = request.subscriptions().get(index);
        StreamRequest sr;
        try {
          sr = new StreamRequest(parameters, s.parameters());
        } catch (RuntimeException e) {
          // E.g. parameters nested too deeply: this subscription fails, the connection goes on.
          errors.add(
              new EvaluationError(
                  stream.name(), "Invalid subscription parameters: " + e.getMessage(), index));
          continue;
        }
        int priority = s.overridePriority() != null ? s.overridePriority() : stream.priority();
        evaluate(stream, sr, priority, new InclusionReason.Subscription(index), index);
      }
      boolean defaults =
          stream.autoSubscribe()
              && (request.includeDefaults() || (stream.edition() < 3 && !subscriptions.isEmpty()));
      if (defaults) {
        evaluate(
            stream,
            new StreamRequest(parameters, Map.of()),
            stream.priority(),
            InclusionReason.DEFAULT,
            null);
      }
    }
  }

  List<ResolvedBucket> staticBuckets() {
    return staticBuckets;
  }

  boolean hasDynamicBuckets() {
    return !pending.isEmpty();
  }

  List<EvaluationError> errors() {
    return errors;
  }

  private void evaluate(
      StreamPlan.Stream stream,
      StreamRequest request,
      int priority,
      InclusionReason reason,
      @Nullable Integer subscription) {
    boolean strict = stream.edition() >= 3;
    for (StreamPlan.Variant v : stream.variants()) {
      try {
        boolean pass = true;
        for (StreamPlan.Ev gate : v.requestGates()) {
          pass &= SqlValues.truthy(gate.eval(Map.of(), request));
        }
        if (!pass) {
          continue;
        }
        List<@Nullable List<@Nullable Object>> values = new ArrayList<>();
        for (BucketParameter p : v.parameters()) {
          values.add(requestValues(p.source(), request, strict));
        }
        List<LookupNode> lookups = v.allLookups();
        IdentityHashMap<LookupNode, List<@Nullable List<@Nullable Object>>> keys =
            new IdentityHashMap<>();
        for (LookupNode n : lookups) {
          List<@Nullable List<@Nullable Object>> parts = new ArrayList<>();
          for (KeyPart k : n.keys) {
            parts.add(requestValues(k.source(), request, true));
          }
          keys.put(n, parts);
        }
        Item item = new Item(stream, v, priority, reason, values, keys, lookups);
        if (lookups.isEmpty()) {
          staticBuckets.addAll(buckets(item, Map.of()));
        } else {
          pending.add(item);
        }
      } catch (RuntimeException e) {
        errors.add(
            new EvaluationError(
                stream.name(),
                "Error evaluating bucket ids: "
                    + (e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName()),
                subscription));
      }
    }
  }

  /** The request's values for a source; null for look-up sources (resolved later). */
  private static @Nullable List<@Nullable Object> requestValues(
      Source source, StreamRequest request, boolean skipNull) {
    if (source instanceof RequestValue rv) {
      Object v = rv.ev().eval(Map.of(), request);
      if (v == null && skipNull) {
        return List.of();
      }
      return Collections.singletonList(v);
    } else if (source instanceof RequestArray ra) {
      Object v = ra.ev().eval(Map.of(), request);
      if (v == null) {
        return List.of();
      }
      try {
        return Collections.unmodifiableList(new ArrayList<>(SqlValues.jsonArray(v, "not text")));
      } catch (RuntimeException e) {
        String shown = SqlValues.text(v);
        throw new IllegalArgumentException(
            "expected a JSON array, got "
                + (shown.length() > 60 ? shown.substring(0, 60) + "..." : shown));
      }
    }
    return null;
  }

  /**
   * Resolves the look-ups of every pending item, one round per depth, then returns their buckets.
   */
  List<ResolvedBucket> dynamicBuckets(ParameterLookupSource source) {
    IdentityHashMap<Item, Map<LookupNode, List<Map<String, @Nullable Object>>>> results =
        new IdentityHashMap<>();
    for (Item item : pending) {
      results.put(item, new IdentityHashMap<>());
    }
    while (true) {
      record Ready(Item item, LookupNode node, List<ParameterLookup> lookups) {}
      List<Ready> ready = new ArrayList<>();
      Set<ParameterLookup> all = new LinkedHashSet<>();
      for (Item item : pending) {
        Map<LookupNode, List<Map<String, @Nullable Object>>> done =
            Objects.requireNonNull(results.get(item));
        for (LookupNode n : item.lookups()) {
          if (done.containsKey(n) || !done.keySet().containsAll(n.children())) {
            continue;
          }
          List<ParameterLookup> lookups = new ArrayList<>();
          for (@Nullable Object[] key :
              combine(
                  n.keys.stream().map(KeyPart::source).toList(),
                  Objects.requireNonNull(
                      item.keyValues().get(n), "every lookup has its key values"),
                  done,
                  true)) {
            List<SqliteValue> values = new ArrayList<>(key.length);
            for (Object v : key) {
              values.add(Values.toApi(v));
            }
            lookups.add(new ParameterLookup(n.scope, values));
          }
          all.addAll(lookups);
          ready.add(new Ready(item, n, lookups));
        }
      }
      if (ready.isEmpty()) {
        break;
      }
      Map<ParameterLookup, List<Map<String, SqliteValue>>> found =
          all.isEmpty() ? Map.of() : source.lookup(List.copyOf(all));
      for (Ready r : ready) {
        List<Map<String, @Nullable Object>> rows = new ArrayList<>();
        for (ParameterLookup l : r.lookups()) {
          for (Map<String, SqliteValue> row : found.getOrDefault(l, List.of())) {
            rows.add(Values.fromApiRow(row));
          }
        }
        Objects.requireNonNull(results.get(r.item())).put(r.node(), rows);
      }
    }
    List<ResolvedBucket> out = new ArrayList<>();
    for (Item item : pending) {
      out.addAll(buckets(item, Objects.requireNonNull(results.get(item))));
    }
    return CompiledSyncRules.merge(out);
  }

  /** The buckets of an item, given the results of its look-ups. */
  private static List<ResolvedBucket> buckets(
      Item item, Map<LookupNode, List<Map<String, @Nullable Object>>> done) {
    for (LookupNode gate : item.variant().lookupGates()) {
      if (done.getOrDefault(gate, List.of()).isEmpty()) {
        return List.of();
      }
    }
    boolean strict = item.stream().edition() >= 3;
    List<Source> sources =
        item.variant().parameters().stream().map(BucketParameter::source).toList();
    List<ResolvedBucket> out = new ArrayList<>();
    List<BucketParameter> parameters = item.variant().parameters();
    List<Integer> sameAs = item.variant().sameAs();
    int copies = item.variant().inclusionCopies();
    values:
    for (@Nullable Object[] values : combine(sources, item.parameterValues(), done, strict)) {
      // Parameters comparing the same row value with two sources (a subscription parameter and an
      // authorization subquery, say) only match a row when both agree: other combinations would be
      // buckets no row can be in. Edition 3 makes them one parameter (sameAs).
      for (int i = 0; i < values.length; i++) {
        for (int j = i + 1; j < values.length; j++) {
          if (!parameters.get(i).rowExpands()
              && !parameters.get(j).rowExpands()
              && (sameAs.get(j) == i
                  || parameters.get(i).rowText().equals(parameters.get(j).rowText()))
              && !StreamPlan.serialize(new Object[] {values[i]})
                  .equals(StreamPlan.serialize(new Object[] {values[j]}))) {
            continue values;
          }
        }
      }
      List<@Nullable Object> kept = new ArrayList<>(values.length);
      for (int i = 0; i < values.length; i++) {
        if (sameAs.get(i) < 0) {
          kept.add(values[i]);
        }
      }
      BucketId id =
          new BucketId(
              item.variant().bucketPrefix() + StreamPlan.serialize(kept.toArray()),
              item.stream().name());
      for (int c = 0; c < copies; c++) {
        // as the reference, which finds the bucket once per agreeing source
        out.add(new ResolvedBucket(id, item.priority(), List.of(item.reason())));
      }
    }
    return out;
  }

  /**
   * Every combination of values for {@code sources}: request values as given, look-up outputs row
   * by row (several columns of one look-up come from the same row). Combinations with a NULL are
   * dropped when {@code skipNull}.
   */
  private static List<@Nullable Object[]> combine(
      List<Source> sources,
      List<@Nullable List<@Nullable Object>> requestValues,
      Map<LookupNode, List<Map<String, @Nullable Object>>> done,
      boolean skipNull) {
    int n = sources.size();
    // Factors: a request source on its own, or all columns read from one look-up.
    List<int[]> slots = new ArrayList<>();
    List<List<@Nullable Object[]>> alternatives = new ArrayList<>();
    Map<LookupNode, Integer> factorOf = new LinkedHashMap<>();
    for (int i = 0; i < n; i++) {
      Source s = sources.get(i);
      if (s instanceof LookupOutput o) {
        Integer f = factorOf.get(o.node());
        if (f == null) {
          factorOf.put(o.node(), slots.size());
          slots.add(new int[] {i});
          alternatives.add(null);
        } else {
          int[] old = slots.get(f);
          int[] grown = Arrays.copyOf(old, old.length + 1);
          grown[old.length] = i;
          slots.set(f, grown);
        }
      } else {
        slots.add(new int[] {i});
        List<@Nullable Object[]> alts = new ArrayList<>();
        for (Object v : requestValues.get(i)) {
          alts.add(new Object[] {v});
        }
        alternatives.add(alts);
      }
    }
    for (Map.Entry<LookupNode, Integer> e : factorOf.entrySet()) {
      int[] s = slots.get(e.getValue());
      List<@Nullable Object[]> alts = new ArrayList<>();
      for (Map<String, @Nullable Object> row : done.getOrDefault(e.getKey(), List.of())) {
        @Nullable Object[] values = new Object[s.length];
        for (int j = 0; j < s.length; j++) {
          LookupOutput o = (LookupOutput) sources.get(s[j]);
          values[j] = row.get(o.node().outputNames.get(o.column()));
        }
        alts.add(values);
      }
      alternatives.set(e.getValue(), alts);
    }
    List<@Nullable Object[]> out = new ArrayList<>();
    fill(slots, alternatives, 0, new Object[n], skipNull, out);
    return out;
  }

  private static void fill(
      List<int[]> slots,
      List<List<@Nullable Object[]>> alternatives,
      int factor,
      @Nullable Object[] current,
      boolean skipNull,
      List<@Nullable Object[]> out) {
    if (factor == slots.size()) {
      if (skipNull) {
        for (Object v : current) {
          if (v == null) {
            return;
          }
        }
      }
      out.add(current.clone());
      return;
    }
    int[] s = slots.get(factor);
    for (Object[] alt : alternatives.get(factor)) {
      for (int j = 0; j < s.length; j++) {
        current[s[j]] = alt[j];
      }
      fill(slots, alternatives, factor + 1, current, skipNull, out);
    }
  }
}
