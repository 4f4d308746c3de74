#ifndef VOUCH_CLIBXML2_SHIM_H
#define VOUCH_CLIBXML2_SHIM_H
#include <libxml/xmlversion.h>
/* Debian's libxml2 is built with ICU, so encoding.h includes the system <unicode/ucnv.h>, whose UErrorCode clashes
 * with Foundation's bundled _FoundationICU in any Swift module importing both. ICU only adds two trailing pointer
 * fields to xmlCharEncodingHandler, a struct libxml2 alone allocates and Swift never reads, so hiding them is safe. */
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlwriter.h>
#include <libxml/xmlschemas.h>
#include <libxml/xmlerror.h>
#endif
