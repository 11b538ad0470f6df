/**
 * The bucket storage SPI: the op log per bucket, checkpoints, checksums and the parameter index.
 * <em>Incubating</em>: the storage issue defines the full contract and its compatibility kit.
 */
@NullMarked
package dev.syncline.spi.storage;

import org.jspecify.annotations.NullMarked;
