package dev.syncline.core.engine;

import dev.syncline.spi.storage.RulesVersion;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * What deploying rules does to the rules versions in storage, decided from the versions alone: the
 * rules that serve already need nothing (a deployment of them in progress is cancelled); rules
 * being filled already are resumed; other rules become a new version that keeps the bucket ids of
 * the definitions it leaves unchanged. Deployments they supersede are dropped; a version is
 * activated at once when nothing serves yet. Pure; {@link Syncline} carries it out under its lock.
 *
 * @param drop versions to drop (superseded deployments)
 * @param target the version that will serve these rules, or null when a new one is to be added
 * @param newVersion the stored form of the new version to add (rules and kept bucket ids), or null
 * @param activate whether to activate the target at once (nothing serves yet)
 * @param unchanged whether these rules were there already (serving or being filled)
 */
record DeploymentPlan(
    List<Long> drop,
    @Nullable RulesVersion target,
    @Nullable String newVersion,
    boolean activate,
    boolean unchanged) {
  DeploymentPlan {
    drop = List.copyOf(drop);
  }

  /**
   * Plans the deployment of {@code yaml}.
   *
   * @param versions the versions in storage
   * @param keepUnchangedBuckets whether definitions the new rules leave as they are keep their
   *     bucket ids (configured, and the storage can adopt buckets)
   */
  static DeploymentPlan of(List<RulesVersion> versions, String yaml, boolean keepUnchangedBuckets) {
    Optional<RulesVersion> active =
        versions.stream().filter(v -> v.state() == RulesVersion.State.ACTIVE).findFirst();
    List<RulesVersion> processing =
        versions.stream().filter(v -> v.state() == RulesVersion.State.PROCESSING).toList();
    if (active.isPresent() && StoredRules.sameRules(active.get().content(), yaml)) {
      // Deploying what serves cancels a deployment in progress.
      return new DeploymentPlan(
          processing.stream().map(RulesVersion::id).toList(), active.get(), null, false, true);
    }
    Optional<RulesVersion> same =
        processing.stream().filter(v -> StoredRules.sameRules(v.content(), yaml)).findFirst();
    List<Long> drop = new ArrayList<>();
    for (RulesVersion v : processing) {
      if (same.isEmpty() || v.id() != same.get().id()) {
        drop.add(v.id()); // superseded by this deployment
      }
    }
    boolean activate = active.isEmpty(); // nothing serves yet: serve the new version at once
    if (same.isPresent()) {
      return new DeploymentPlan(drop, same.get(), null, activate, true);
    }
    // Definitions the new rules leave as they are keep their bucket ids, so clients keep those
    // buckets.
    Map<String, Integer> kept = new TreeMap<>();
    if (active.isPresent() && keepUnchangedBuckets) {
      RulesVersion a = active.get();
      Map<String, Integer> activeKept = StoredRules.keptVersions(a.content());
      for (String definition :
          StoredRules.unchangedDefinitions(StoredRules.yaml(a.content()), yaml)) {
        kept.put(definition, activeKept.getOrDefault(definition, (int) a.id()));
      }
    }
    return new DeploymentPlan(drop, null, StoredRules.encode(yaml, kept), activate, false);
  }
}
