/* test_common.c - reader, buffer, varints and CRC-32C known vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/crc32c.h"
#include "common/error.h"
#include "common/reader.h"

static void crc32c_known_vectors(void **state)
{
    (void)state;
    assert_int_equal(crc32c(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(crc32c(0, "", 0), 0);
    uint8_t zeros[32] = {0};
    assert_int_equal(crc32c(0, zeros, 32), 0x8A9136AAu); /* RFC 3720 B.4 */
    uint8_t ones[32];
    memset(ones, 0xff, sizeof ones);
    assert_int_equal(crc32c(0, ones, 32), 0x62A8AB43u);
    uint8_t inc[32];
    for (int i = 0; i < 32; i++)
        inc[i] = (uint8_t)i;
    assert_int_equal(crc32c(0, inc, 32), 0x46DD794Eu);
    /* incremental == one shot, across odd split points */
    uint32_t c = crc32c(0, inc, 7);
    c = crc32c(c, inc + 7, 25);
    assert_int_equal(c, 0x46DD794Eu);
}

static void varint_round_trip(void **state)
{
    (void)state;
    static const int64_t values[] = {0, 1, -1, 63, -64, 64, 300, -300, INT32_MAX, INT32_MIN,
                                     INT64_MAX, INT64_MIN};
    buf b;
    buf_init(&b, 1024);
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++)
        buf_put_varint(&b, values[i]);
    assert_true(buf_ok(&b));
    reader r;
    reader_init(&r, b.data, b.len);
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++)
        assert_true(reader_varlong(&r) == values[i]);
    assert_true(reader_ok(&r));
    assert_int_equal(reader_remaining(&r), 0);
    buf_free(&b);

    /* known encodings: zigzag 1 -> 0x02, -1 -> 0x01, 300 -> 0xd8 0x04 */
    uint8_t enc[] = {0x02, 0x01, 0xd8, 0x04};
    reader_init(&r, enc, sizeof enc);
    assert_int_equal(reader_varint(&r), 1);
    assert_int_equal(reader_varint(&r), -1);
    assert_int_equal(reader_varint(&r), 300);
    assert_int_equal(varint_size(300), 2);
    assert_int_equal(uvarint_size(127), 1);
    assert_int_equal(uvarint_size(128), 2);
}

static void varint_malformed(void **state)
{
    (void)state;
    uint8_t too_long[11];
    memset(too_long, 0x80, sizeof too_long);
    reader r;
    reader_init(&r, too_long, sizeof too_long);
    reader_varlong(&r);
    assert_false(reader_ok(&r));
    assert_int_equal(r.err, ST_ECORRUPT);

    uint8_t overflow32[] = {0xff, 0xff, 0xff, 0xff, 0x7f};
    reader_init(&r, overflow32, sizeof overflow32);
    reader_uvarint(&r);
    assert_int_equal(r.err, ST_ECORRUPT);

    uint8_t truncated[] = {0x80, 0x80};
    reader_init(&r, truncated, sizeof truncated);
    reader_uvarint(&r);
    assert_int_equal(r.err, ST_ETRUNCATED);
}

static void reader_bounds(void **state)
{
    (void)state;
    uint8_t data[] = {0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0xff};
    reader r;
    reader_init(&r, data, sizeof data);
    assert_int_equal(reader_i16(&r), 1);
    assert_int_equal(reader_i32(&r), 2);
    assert_int_equal(reader_i8(&r), -1);
    assert_true(reader_ok(&r));
    assert_int_equal(reader_i8(&r), 0); /* past the end: zero and sticky error */
    assert_false(reader_ok(&r));
    assert_int_equal(reader_i64(&r), 0);
    assert_int_equal(r.err, ST_ETRUNCATED);

    reader_init(&r, data, sizeof data);
    assert_null(reader_bytes(&r, 8));
    assert_false(reader_ok(&r));

    /* array counts are checked against what remains */
    reader_init(&r, data, sizeof data);
    assert_int_equal(reader_check_count(&r, 7, 100, 1), 7);
    assert_int_equal(reader_check_count(&r, 8, 100, 1), -1);
    reader_init(&r, data, sizeof data);
    assert_int_equal(reader_check_count(&r, INT32_MAX, INT32_MAX, 4), -1);
    reader_init(&r, data, sizeof data);
    assert_int_equal(reader_check_count(&r, -5, 100, 1), -1);

    reader sub;
    reader_init(&r, data, sizeof data);
    sub = reader_sub(&r, 2);
    assert_int_equal(reader_i16(&sub), 1);
    reader_i8(&sub);
    assert_false(reader_ok(&sub));
    assert_true(reader_ok(&r));
}

static void buf_ceiling(void **state)
{
    (void)state;
    buf b;
    buf_init(&b, 10);
    buf_put_i64(&b, 1);
    assert_true(buf_ok(&b));
    buf_put_i32(&b, 1);
    assert_false(buf_ok(&b));
    assert_int_equal(b.err, ST_ETOOBIG);
    assert_int_equal(b.len, 8);
    buf_free(&b);

    buf_init(&b, 1 << 20);
    buf_put_i32(&b, 0);
    buf_put_i16(&b, -2);
    buf_patch_i32(&b, 0, 0x01020304);
    assert_int_equal(load_i32(b.data), 0x01020304);
    assert_int_equal(load_i16(b.data + 4), -2);
    buf_free(&b);
}

static void error_names(void **state)
{
    (void)state;
    assert_string_equal(strait_error_name(ST_ECRC), "ST_ECRC");
    assert_string_equal(strait_strerror(ST_ECRC), "checksum mismatch");
    assert_string_equal(strait_strerror(-999), "unknown error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(crc32c_known_vectors), cmocka_unit_test(varint_round_trip),
        cmocka_unit_test(varint_malformed),     cmocka_unit_test(reader_bounds),
        cmocka_unit_test(buf_ceiling),          cmocka_unit_test(error_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
