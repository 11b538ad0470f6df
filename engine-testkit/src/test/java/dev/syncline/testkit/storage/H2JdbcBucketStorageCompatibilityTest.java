package dev.syncline.testkit.storage;

import dev.syncline.core.storage.JdbcBucketStorage;
import dev.syncline.spi.storage.BucketStorage;
import java.util.UUID;
import org.h2.jdbcx.JdbcDataSource;

/** The JDBC storage on H2 passes the compatibility kit. */
class H2JdbcBucketStorageCompatibilityTest extends BucketStorageCompatibilityKit {
  @Override
  protected BucketStorage createStorage() {
    JdbcDataSource ds = new JdbcDataSource();
    ds.setURL("jdbc:h2:mem:kit-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
    return JdbcBucketStorage.builder(ds).build();
  }
}
