/*
 * crc32c.h - CRC-32C (Castagnoli), the checksum of Kafka record batches v2.
 * Uses the SSE4.2 instruction when the CPU has it, else slicing-by-8 tables.
 */
#ifndef STRAIT_CRC32C_H
#define STRAIT_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continues a CRC: pass 0 to start. crc32c(0, "123456789", 9) == 0xE3069283. */
uint32_t crc32c(uint32_t crc, const void *data, size_t len);

#endif
