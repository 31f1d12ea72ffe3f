/** The one place the certificate commands import the identity core from. */
export * from "@ipop/shared";
