package dev.syncline.api.engine;

/**
 * Counters and gauges of an engine instance since it started, named after the PowerSync service's
 * metrics they correspond to. Cheap to read; a Micrometer binding ({@code
 * dev.syncline.core.engine.SynclineMeters}) publishes them under those names.
 *
 * @param dataSyncedBytes uncompressed bytes of sync lines sent ({@code
 *     powersync_data_synced_bytes_total})
 * @param operationsSynced operations sent to clients ({@code powersync_operations_synced_total})
 * @param concurrentConnections open sync streams ({@code powersync_concurrent_connections})
 * @param rowsReplicated source row changes applied by this instance ({@code
 *     powersync_rows_replicated_total})
 * @param transactionsReplicated source transactions applied by this instance ({@code
 *     powersync_transactions_replicated_total})
 * @param replicationLagSeconds age of the newest applied source commit when it was applied, for the
 *     active version ({@code powersync_replication_lag_seconds}); {@code 0} when idle, not
 *     replicating here, or not known
 * @param stalledStreamsClosed sync streams closed because their client took nothing for the
 *     stalled-stream timeout ({@code syncline_stalled_streams_closed_total}; Syncline's own)
 */
public record EngineMetrics(
    long dataSyncedBytes,
    long operationsSynced,
    int concurrentConnections,
    long rowsReplicated,
    long transactionsReplicated,
    double replicationLagSeconds,
    long stalledStreamsClosed) {}
