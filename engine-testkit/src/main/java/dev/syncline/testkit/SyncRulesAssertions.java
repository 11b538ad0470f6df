package dev.syncline.testkit;

import dev.syncline.api.rules.ResolvedBucket;
import java.util.Arrays;
import java.util.List;
import org.assertj.core.api.AbstractAssert;
import org.assertj.core.api.Assertions;

/**
 * AssertJ entry point for {@link SyncRulesTester.UserView}s.
 *
 * <pre>{@code
 * assertThat(tester.forUser("u1"))
 *     .hasBuckets("user_lists[\"u1\"]")
 *     .receives("todos", "t1", "t2")
 *     .doesNotReceive("todos", "t3");
 * }</pre>
 */
public final class SyncRulesAssertions {
  private SyncRulesAssertions() {}

  /** Starts an assertion on what a user receives. */
  public static UserViewAssert assertThat(SyncRulesTester.UserView actual) {
    return new UserViewAssert(actual);
  }

  /** Assertions on a {@link SyncRulesTester.UserView}. */
  public static final class UserViewAssert
      extends AbstractAssert<UserViewAssert, SyncRulesTester.UserView> {
    UserViewAssert(SyncRulesTester.UserView actual) {
      super(actual, UserViewAssert.class);
    }

    /** The user receives exactly these buckets, in any order. */
    public UserViewAssert hasBuckets(String... names) {
      isNotNull();
      Assertions.assertThat(actual.bucketNames())
          .as("buckets of %s", actual.request().userId())
          .containsExactlyInAnyOrder(names);
      return this;
    }

    /** The user receives no bucket at all. */
    public UserViewAssert hasNoBuckets() {
      isNotNull();
      Assertions.assertThat(actual.bucketNames())
          .as("buckets of %s", actual.request().userId())
          .isEmpty();
      return this;
    }

    /** The bucket is delivered with this priority. */
    public UserViewAssert hasBucketWithPriority(String name, int priority) {
      isNotNull();
      List<ResolvedBucket> match =
          actual.buckets().stream().filter(b -> b.bucket().name().equals(name)).toList();
      Assertions.assertThat(match).as("bucket %s", name).hasSize(1);
      Assertions.assertThat(match.get(0).priority()).as("priority of %s", name).isEqualTo(priority);
      return this;
    }

    /** The user receives rows of {@code table} with these ids (and possibly others). */
    public UserViewAssert receives(String table, String... ids) {
      isNotNull();
      Assertions.assertThat(actual.ids(table))
          .as("%s rows of %s", table, actual.request().userId())
          .contains(ids);
      return this;
    }

    /** The user receives exactly these rows of {@code table}. */
    public UserViewAssert receivesExactly(String table, String... ids) {
      isNotNull();
      Assertions.assertThat(actual.ids(table))
          .as("%s rows of %s", table, actual.request().userId())
          .containsExactlyInAnyOrder(ids);
      return this;
    }

    /** The user receives none of these rows of {@code table}. */
    public UserViewAssert doesNotReceive(String table, String... ids) {
      isNotNull();
      Assertions.assertThat(actual.ids(table))
          .as("%s rows of %s", table, actual.request().userId())
          .doesNotContainAnyElementsOf(Arrays.asList(ids));
      return this;
    }

    /** Rows and the request evaluated without errors. */
    public UserViewAssert hasNoErrors() {
      isNotNull();
      Assertions.assertThat(actual.errors()).as("evaluation errors").isEmpty();
      return this;
    }
  }
}
