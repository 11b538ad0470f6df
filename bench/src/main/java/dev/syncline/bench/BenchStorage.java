package dev.syncline.bench;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.syncline.core.storage.InMemoryBucketStorage;
import dev.syncline.core.storage.JdbcBucketStorage;
import dev.syncline.spi.storage.BucketStorage;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;

/**
 * A storage for benchmarks: {@code memory}, {@code postgres} (embedded PostgreSQL with the test
 * settings fsync, synchronous_commit and full_page_writes off) or {@code postgres-durable} (fsync
 * and synchronous commit on).
 */
final class BenchStorage implements AutoCloseable {
  final BucketStorage storage;
  private final EmbeddedPostgres postgres;
  private final HikariDataSource dataSource;

  private BenchStorage(
      BucketStorage storage, EmbeddedPostgres postgres, HikariDataSource dataSource) {
    this.storage = storage;
    this.postgres = postgres;
    this.dataSource = dataSource;
  }

  static BenchStorage open(String kind) throws IOException {
    if (!kind.startsWith("postgres")) {
      return new BenchStorage(new InMemoryBucketStorage(), null, null);
    }
    EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder();
    if (kind.equals("postgres-durable")) {
      durable(builder);
    } else {
      builder
          .setServerConfig("fsync", "off")
          .setServerConfig("synchronous_commit", "off")
          .setServerConfig("full_page_writes", "off");
    }
    EmbeddedPostgres postgres = builder.start();
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(postgres.getJdbcUrl("postgres", "postgres"));
    config.setMaximumPoolSize(4);
    HikariDataSource dataSource = new HikariDataSource(config);
    return new BenchStorage(JdbcBucketStorage.builder(dataSource).build(), postgres, dataSource);
  }

  /**
   * Durable settings for an embedded server: zonky's builder starts Postgres with {@code fsync} and
   * {@code synchronous_commit} off (fine for tests, not for figures that claim durability), so turn
   * both back on.
   */
  static EmbeddedPostgres.Builder durable(EmbeddedPostgres.Builder builder) {
    return builder.setServerConfig("fsync", "on").setServerConfig("synchronous_commit", "on");
  }

  @Override
  public void close() throws IOException {
    storage.close();
    if (dataSource != null) {
      dataSource.close();
    }
    if (postgres != null) {
      postgres.close();
    }
  }
}
