package dev.syncline.examples.readme;

import static dev.syncline.testkit.SyncRulesAssertions.assertThat;

import dev.syncline.api.SourceRow;
import dev.syncline.api.TableRef;
import dev.syncline.api.auth.TokenVerifier;
import dev.syncline.api.rules.RequestContext;
import dev.syncline.api.rules.RequestQuerier;
import dev.syncline.api.rules.ResolvedBucket;
import dev.syncline.api.rules.RowEvaluation;
import dev.syncline.api.rules.SyncRules;
import dev.syncline.api.rules.SyncRulesSource;
import dev.syncline.core.auth.JwtTokenVerifier;
import dev.syncline.core.engine.Syncline;
import dev.syncline.core.rules.SyncRulesCompiler;
import dev.syncline.core.storage.JdbcBucketStorage;
import dev.syncline.core.upload.UploadHandler;
import dev.syncline.core.upload.UploadServlet;
import dev.syncline.postgres.PostgresSource;
import dev.syncline.spi.storage.BucketStorage;
import dev.syncline.spi.storage.Checkpoint;
import dev.syncline.testkit.SyncRulesTester;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletRegistration;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;

/**
 * The README's code, compiled with the build: each region between {@code // README:<name>} and
 * {@code // README:end} is a code block of the README, which {@link ReadmeExamplesTest} checks word
 * for word. Change both together.
 */
final class ReadmeExamples {
  private ReadmeExamples() {}

  static Syncline embedding(
      DataSource dataSource,
      String jdbcUrl,
      String pw,
      ServletContext servletContext,
      String authorizationHeader,
      byte[] body) {
    // README:embedding
    // dataSource: your pool. The engine holds 2 connections (replication lock, checkpoint
    // notifications), up to 2 more while the replicator writes, plus what sync streams read.
    TokenVerifier tokenVerifier =
        JwtTokenVerifier.builder()
            .jwksUri(URI.create("https://auth.example.com/.well-known/jwks.json"))
            .audience("my-app")
            .build();
    Syncline engine =
        Syncline.builder()
            .storage(JdbcBucketStorage.builder(dataSource).tablePrefix("syncline_").build())
            .source(
                () -> PostgresSource.builder().jdbcUrl(jdbcUrl).user("sync").password(pw).build())
            .rules(SyncRulesSource.ofFile(Path.of("sync-rules.yaml")))
            .tokenVerifier(tokenVerifier)
            .build()
            .start();

    // Endpoints: Jakarta Servlet 6, asynchronous (idle streams and slow senders hold no thread).
    // Or engine.httpHandler("*") on the JDK's HttpServer: a development transport.
    ServletRegistration.Dynamic sync =
        servletContext.addServlet("sync", engine.servlet("https://app.example.com"));
    sync.setAsyncSupported(true);
    sync.addMapping("/sync/*", "/write-checkpoint2.json", "/probes/*");

    // The write path: the SDK connector's uploadData() posts the client's transaction here.
    // Allowed tables and columns, nothing else; the authorizer sees the verified token's user,
    // never the body's word; the engine gets a write checkpoint after each commit.
    UploadHandler uploads =
        UploadHandler.builder(dataSource)
            .table("lists", "created_at", "name", "owner_id")
            .table("todos")
            .authorizer(
                (user, entry, row, tx) -> row == null || user.userId().equals(row.get("owner_id")))
            .engine(engine)
            .build();
    // The servlet checks the token first, then reads the body asynchronously.
    ServletRegistration.Dynamic upload =
        servletContext.addServlet(
            "upload", new UploadServlet(uploads, tokenVerifier, "https://app.example.com"));
    upload.setAsyncSupported(true);
    upload.addMapping("/api/upload");
    // Or in your own endpoint: 200, 4xx (the client discards the batch) or 503 (it retries).
    UploadHandler.Response response =
        uploads.handle(engine.authenticate(authorizationHeader), body);

    // Replication state, lag, storage reachable, open streams, rules versions:
    engine.health();
    // On shutdown: streams end, replication stops cleanly.
    engine.close();
    // README:end
    System.out.println(response);
    return engine;
  }

  static List<ResolvedBucket> evaluator(
      BucketStorage storage, long versionId, Checkpoint checkpoint) {
    // README:evaluator
    SyncRules rules = SyncRulesCompiler.compile(SyncRulesSource.ofFile(Path.of("sync-rules.yaml")));

    // Where does a replicated row go?
    RowEvaluation result =
        rules.evaluateRow(
            TableRef.of("public", "todos"),
            SourceRow.builder()
                .put("id", "t1")
                .put("list_id", "l1")
                .put("description", "Milk")
                .build());
    result
        .rows()
        .forEach(
            r -> System.out.println(r.bucket() + " " + r.table() + "/" + r.id() + " " + r.data()));

    // Which buckets does a user get? (parameter rows as stored at a checkpoint)
    RequestQuerier querier = rules.querier(RequestContext.forUser("alice"));
    List<ResolvedBucket> buckets =
        querier.allBuckets(lookups -> storage.lookup(versionId, checkpoint.opId(), lookups));
    // README:end
    return buckets;
  }

  static void testkit() {
    // README:testkit
    SyncRulesTester tester =
        SyncRulesTester.of(Path.of("sync-rules.yaml"))
            .row("lists", Map.of("id", "l1", "owner_id", "alice"))
            .row("todos", Map.of("id", "t1", "list_id", "l1"));
    assertThat(tester.forUser("alice"))
        .hasBuckets("owned_lists[\"l1\"]")
        .receivesExactly("todos", "t1");
    assertThat(tester.forUser("mallory")).receivesExactly("todos");
    System.out.println(tester.explain("todos", Map.of("id", "t2", "list_id", "l9")));
    // README:end
  }
}
