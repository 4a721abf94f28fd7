package oktasim

// Ids of the seed objects, for tests in any package to name sample data.
// They are fixed strings rather than generated so that they read well in
// test failures and stay the same whatever the clock.
const (
	// Users, one per interesting status. The admin owns the API token, so
	// it is the actor of every System Log event the simulator records.
	// Admin roles (roles.go): the admin is SUPER_ADMIN by direct assignment
	// and ORG_ADMIN through Okta Admins; Carol is HELP_DESK_ADMIN; no one
	// else holds a role. Sam and Tess are the security engineers who
	// approve agents' calls in Bollard (docs/approvals.md): members of
	// security-approvers, holding no admin role, and never the subject of
	// another test's change.
	SeedUserAdmin = "00uADAadmin0000000g7" // ACTIVE, in Okta Admins; SUPER_ADMIN and ORG_ADMIN
	SeedUserAlice = "00uALIactive000000g7" // ACTIVE, Engineering; SMS, push, FastPass, TOTP factors; a session
	SeedUserBob   = "00uBOBactive000000g7" // ACTIVE, Engineering and Support; email, question, WebAuthn factors; a session
	SeedUserCarol = "00uCARactive000000g7" // ACTIVE, Support; SMS factor; HELP_DESK_ADMIN
	SeedUserDave  = "00uDAVstaged000000g7" // STAGED
	SeedUserErin  = "00uERIprovisioned0g7" // PROVISIONED (no password yet)
	SeedUserFrank = "00uFRAsuspended000g7" // SUSPENDED
	SeedUserGrace = "00uGRAlockedout000g7" // LOCKED_OUT
	SeedUserHeidi = "00uHEIdeprov000000g7" // DEPROVISIONED
	SeedUserIvan  = "00uIVApwexpired000g7" // PASSWORD_EXPIRED
	SeedUserJudy  = "00uJUDrecovery0000g7" // RECOVERY
	SeedUserSam   = "00uSAMsecurity0000g7" // ACTIVE, security-approvers
	SeedUserTess  = "00uTESsecurity0000g7" // ACTIVE, security-approvers

	// Groups.
	SeedGroupEveryone       = "00gEVERYONE0000000g7" // BUILT_IN: every user
	SeedGroupOktaAdmins     = "00gOKTAADMINS00000g7" // OKTA_GROUP with the ORG_ADMIN role
	SeedGroupEngineering    = "00gENGINEERING0000g7" // OKTA_GROUP, assigned to GitHub
	SeedGroupSupport        = "00gSUPPORT00000000g7" // OKTA_GROUP
	SeedGroupSalesforceReps = "00gSFDCREPS0000000g7" // APP_GROUP imported from Salesforce
	// OKTA_GROUP named "security-approvers": Sam and Tess, the people the
	// shipped approval policy asks (policies/approval.rego).
	SeedGroupSecurityApprovers = "00gSECAPPROVERS000g7"

	// Applications.
	SeedAppSalesforce = "0oaSALESFORCE00000g7" // ACTIVE SAML_2_0
	SeedAppGitHub     = "0oaGITHUB000000000g7" // ACTIVE SAML_2_0
	SeedAppPortal     = "0oaPORTAL000000000g7" // ACTIVE OPENID_CONNECT
	SeedAppLegacyWiki = "0oaLEGACYWIKI00000g7" // INACTIVE BOOKMARK

	// Sessions.
	SeedSessionAlice = "102ALICEsession00000000g7"
	SeedSessionBob   = "102BOBsession0000000000g7"
	SeedSessionAdmin = "102ADMINsession00000000g7"

	// Policies; the Default ones are system policies Okta will not delete.
	SeedPolicySignOnDefault     = "00pSIGNONDEF000000g7" // OKTA_SIGN_ON, system
	SeedPolicySignOnContractors = "00pSIGNONCTR000000g7" // OKTA_SIGN_ON, ACTIVE
	SeedPolicyPasswordDefault   = "00pPASSWORDDEF0000g7" // PASSWORD, system
	SeedPolicyMFAEnrollDefault  = "00pMFAENROLLDEF000g7" // MFA_ENROLL, system
	SeedPolicyAccessDefault     = "00pACCESSDEF000000g7" // ACCESS_POLICY, system
	SeedPolicyAccessInternal    = "00pACCESSINT000000g7" // ACCESS_POLICY, INACTIVE

	// Policy rules, one per policy.
	SeedRuleSignOnDefault     = "0prSIGNONDEF000000g7"
	SeedRuleSignOnContractors = "0prSIGNONCTR000000g7"
	SeedRulePasswordDefault   = "0prPASSWORDDEF0000g7"
	SeedRuleMFAEnrollDefault  = "0prMFAENROLLDEF000g7"
	SeedRuleAccessDefault     = "0prACCESSDEF000000g7"
	SeedRuleAccessInternal    = "0prACCESSINT000000g7"

	// Factors.
	SeedFactorAliceSMS      = "mblALICESMS0000000g7"
	SeedFactorAlicePush     = "opfALICEPUSH000000g7"
	SeedFactorAliceFastPass = "crpALICEFASTPASS00g7" // factorType signed_nonce (Okta FastPass)
	SeedFactorAliceTOTP     = "uftALICETOTP000000g7" // Okta Verify TOTP
	SeedFactorBobEmail      = "emfBOBEMAIL0000000g7"
	SeedFactorBobQuestion   = "ufsBOBQUESTION0000g7"
	SeedFactorBobWebAuthn   = "fwfBOBWEBAUTHN0000g7"
	SeedFactorAdminTOTP     = "uftADMINTOTP000000g7" // Google Authenticator
	SeedFactorCarolSMS      = "mblCAROLSMS0000000g7"
)

// Logins of the seed users, for lookups by login or short name.
const (
	SeedLoginAdmin = "ada.admin@example.com"
	SeedLoginAlice = "alice.anderson@example.com"
	SeedLoginBob   = "bob.baker@example.com"
	SeedLoginCarol = "carol.chen@example.com"
	SeedLoginDave  = "dave.diaz@example.com"
	SeedLoginErin  = "erin.evans@example.com"
	SeedLoginFrank = "frank.fischer@example.com"
	SeedLoginGrace = "grace.garcia@example.com"
	SeedLoginHeidi = "heidi.hughes@example.com"
	SeedLoginIvan  = "ivan.ivanov@example.com"
	SeedLoginJudy  = "judy.jones@example.com"
	SeedLoginSam   = "sam.singh@example.com"
	SeedLoginTess  = "tess.turner@example.com"
)

// Ids of org metadata the users and sessions point at.
const (
	defaultUserTypeID = "otyDEFAULTUSER0000g7"
	userSchemaID      = "oscDEFAULTSCHEMA00g7"
	oktaIdPID         = "00oOKTAIDP00000000g7"
)

// tokenOwner is the actor of API changes: the admin whose token is used.
func tokenOwner() target {
	return target{id: SeedUserAdmin, typ: "User", alternateID: SeedLoginAdmin, displayName: "Ada Admin"}
}
