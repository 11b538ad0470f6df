/**
 * Replication: runs a {@link dev.syncline.spi.source.SourceAdapter} into bucket storage for one
 * rules version. <em>Incubating.</em>
 */
@NullMarked
package dev.syncline.core.replicate;

import org.jspecify.annotations.NullMarked;
