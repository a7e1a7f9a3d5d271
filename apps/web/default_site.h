/*
 * default_site.h - the site served when the web unikernel is given no
 * "site" block device: one page and its style sheet, so that it answers
 * something useful with no set-up.
 */
#ifndef ATOLL_APPS_WEB_DEFAULT_SITE_H
#define ATOLL_APPS_WEB_DEFAULT_SITE_H

#define WEB_DEFAULT_MTIME 1796083200u /* 2026-12-01 00:00:00 UTC */

static const char web_default_index[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"en\">\n"
    "<head>\n"
    "<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>atoll web server</title>\n"
    "<link rel=\"stylesheet\" href=\"/style.css\">\n"
    "</head>\n"
    "<body>\n"
    "<main>\n"
    "<h1>atoll web server</h1>\n"
    "<p>This page comes from a unikernel: the web server, its TLS, TCP/IP and\n"
    "the driver of the network card it came through are one small program.</p>\n"
    "<p>It is the built-in page.  Give the unikernel a site as a POSIX tar\n"
    "archive on its <code>site</code> block device to serve your own files:</p>\n"
    "<pre>tar cf site.tar -C public .\n"
    "web --block:site=site.tar --block:certs=certs.tar ...</pre>\n"
    "</main>\n"
    "</body>\n"
    "</html>\n";

static const char web_default_css[] =
    "body { font-family: system-ui, sans-serif; margin: 0; background: #f4f7f9; color: #18242e; }\n"
    "main { max-width: 40em; margin: 4em auto; padding: 0 1em; }\n"
    "h1 { font-size: 2.4em; color: #0b6e8a; }\n"
    "pre { background: #e3ecf1; padding: 1em; overflow-x: auto; }\n";

#endif
