/*
 * Human units: one parser and one formatter per kind of quantity, shared by
 * the YAML loader, the command-line flags and `salvo plan`.
 *
 * Every value is an integer in the base unit named by the function:
 *   size   bytes  "4MiB" "512KiB" "1GB" "1.5GiB" "4194304B"
 *   rate   bit/s  "200mbit" "1gbit" "50MB/s" "100Mbps" "64KiB/s"
 *   time   ns     "100ms" "2s" "1.5s" "250us" "5min" "1h"
 *   loss   ppm    "0.5%" (parts per million: 0.5 % = 5000 ppm, 100 % max)
 *   count  1      "64" (digits only)
 *   factor 1/1000 "3" "4.5" (a plain decimal, up to three decimals)
 *
 * A number may have a decimal fraction; the result must be a whole number
 * of the base unit ("0.3B" is refused, never rounded).  A bare number with
 * no unit is refused for sizes, rates and times because it is ambiguous;
 * "0" alone is accepted for them since zero needs no unit.  One optional
 * space may separate number and unit.  Units are case-sensitive where case
 * carries meaning (B is a byte, b a bit); "bit" forms are not.
 *
 * Parsers return 0, or SALVO_ERR_INVAL with a one-line reason in err
 * (always NUL-terminated when errlen > 0) that quotes the text and lists
 * what is allowed.  They keep no state and are safe from any thread.
 */
#ifndef SALVO_CONF_UNITS_H
#define SALVO_CONF_UNITS_H

#include <stddef.h>
#include <stdint.h>

int salvo_units_parse_size(const char *text, uint64_t *bytes, char *err,
			   size_t errlen);
int salvo_units_parse_rate(const char *text, uint64_t *bps, char *err,
			   size_t errlen);
int salvo_units_parse_time(const char *text, uint64_t *ns, char *err,
			   size_t errlen);
int salvo_units_parse_loss(const char *text, uint64_t *ppm, char *err,
			   size_t errlen);
int salvo_units_parse_count(const char *text, uint64_t *n, char *err,
			    size_t errlen);
int salvo_units_parse_factor(const char *text, uint64_t *milli, char *err,
			     size_t errlen);

/*
 * Formatters write the shortest exact form that the matching parser reads
 * back to the same value ("4MiB", "20MB", "1gbit", "150ms", "0.5%", "4.5"),
 * truncated to n bytes, always NUL-terminated.  They return buf.
 */
char *salvo_units_format_size(uint64_t bytes, char *buf, size_t n);
char *salvo_units_format_rate(uint64_t bps, char *buf, size_t n);
char *salvo_units_format_time(uint64_t ns, char *buf, size_t n);
char *salvo_units_format_loss(uint64_t ppm, char *buf, size_t n);
char *salvo_units_format_factor(uint64_t milli, char *buf, size_t n);

/* v / 10^decimals (decimals 0..18) exactly, trailing zeros dropped:
 * (5625000, 6) gives "5.625" (bytes as decimal MB). */
char *salvo_units_format_fixed(uint64_t v, int decimals, char *buf, size_t n);

#endif
