package dev.syncline.api.engine;

/**
 * The outcome of {@link SyncEngine#deployRules}.
 *
 * @param version the rules version that will serve these rules (the current one when {@code
 *     unchanged})
 * @param unchanged whether the rules equal those already served or being filled, so nothing new was
 *     deployed
 */
public record RulesDeployment(long version, boolean unchanged) {}
