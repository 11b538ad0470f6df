package dev.syncline.api.rules;

import java.util.List;
import java.util.Objects;

/**
 * One entry of a sync config's {@code event_definitions:} section: a named set of queries whose
 * source tables' changes are reported as replication events rather than synced to clients.
 *
 * @param name the event's name, as written in the config
 * @param sourceTables the tables its queries read, in the order they appear, without duplicates
 */
public record EventDefinitionInfo(String name, List<TablePattern> sourceTables) {
  /** Copies {@code sourceTables}; rejects nulls. */
  public EventDefinitionInfo {
    Objects.requireNonNull(name, "name");
    sourceTables = List.copyOf(sourceTables);
  }
}
