// redirect is a WAGI (CGI) module that answers with a redirect: it prints
// "Location: <destination>" and a blank line, which makes the gateway answer
// 302. The destination comes from the env var "destination" (a deployment
// envVar), default https://example.com/. It is cut at the first CR or LF so a
// bad value cannot inject headers.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
	const char *dest = getenv("destination");
	if (dest == NULL || *dest == '\0')
		dest = "https://example.com/";
	int len = (int)strcspn(dest, "\r\n");
	printf("Location: %.*s\n\n", len, dest);
	return fflush(stdout) == 0 ? 0 : 1;
}
