/* The one application a non-sim image links: the Makefile compiles this
 * file once per app with -DAPP_SYM=<app>_app. */
#include "platform.h"

extern const struct plat_app APP_SYM;
const struct plat_app *const plat_app_linked = &APP_SYM;
