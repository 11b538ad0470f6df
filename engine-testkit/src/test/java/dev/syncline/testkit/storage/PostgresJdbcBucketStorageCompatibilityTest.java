package dev.syncline.testkit.storage;

import dev.syncline.core.storage.JdbcBucketStorage;
import dev.syncline.spi.storage.BucketStorage;
import dev.syncline.testkit.postgres.TestPostgres;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The JDBC storage on a real Postgres (started by the build) passes the compatibility kit. */
class PostgresJdbcBucketStorageCompatibilityTest extends BucketStorageCompatibilityKit {
  @RegisterExtension static final TestPostgres POSTGRES = new TestPostgres();

  private static final AtomicInteger TABLES = new AtomicInteger();

  @Override
  protected BucketStorage createStorage() {
    // A fresh set of tables per test in the class's database.
    return JdbcBucketStorage.builder(POSTGRES.dataSource())
        .tablePrefix("t" + TABLES.incrementAndGet() + "_")
        .build();
  }
}
