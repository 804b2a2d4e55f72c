variable "name" {
  type        = string
  description = "Name stem, `<prefix>-<environment>`; accounts are `<stem>-oai-<key>`."
}

variable "resource_group_name" {
  type        = string
  description = "Resource group that holds the resources."
}

variable "tags" {
  type        = map(string)
  description = "Tags for every resource; must include owner, environment, cost-center and application."

  validation {
    condition     = alltrue([for k in ["owner", "environment", "cost-center", "application"] : contains(keys(var.tags), k)])
    error_message = "tags must include the keys owner, environment, cost-center and application."
  }
}

variable "accounts" {
  type = map(object({
    location = string
    priority = number
    weight   = optional(number, 1)
  }))
  description = "One Azure OpenAI account per entry (key = short region name): region, router priority (1 = tried first) and weight among equal priorities."

  validation {
    condition     = length(var.accounts) >= 1 && alltrue([for a in values(var.accounts) : a.priority >= 1 && a.weight >= 1])
    error_message = "accounts needs at least one entry; priority and weight are 1 or more."
  }
}

variable "primary_account" {
  type        = string
  description = "Key of the account whose endpoint becomes AZURE_OPENAI_ENDPOINT."

  validation {
    condition     = contains(keys(var.accounts), var.primary_account)
    error_message = "primary_account must be one of the keys of accounts."
  }
}

variable "chat_model" {
  type = object({
    name            = string
    version         = string
    deployment_name = string
    sku_name        = optional(string, "GlobalStandard")
    capacity        = optional(number, 30)
  })
  description = "Chat model deployed in every account (pay-as-you-go); capacity in thousands of tokens per minute. The model, version and SKU must be offered in every account's region and not retired: model-catalogue.json, checked at plan time."
  default = {
    name            = "gpt-5.5"
    version         = "2026-04-24"
    deployment_name = "chat"
  }
}

variable "chat_model_family" {
  type        = string
  description = "Family of chat_model, given to the app with every endpoint (CHATREF_LLM_ENDPOINTS model_family): reasoning for gpt-5.x and o-series models, which refuse max_tokens and temperature, chat for gpt-4o and gpt-4.1. Deployment names say nothing about the model, so it is stated here and checked against the model name."
  default     = "reasoning"

  validation {
    condition     = var.chat_model_family == (can(regex("^(gpt-5|o1|o3|o4|codex-mini)", var.chat_model.name)) ? "reasoning" : "chat")
    error_message = "chat_model_family must be reasoning for a gpt-5.x or o-series chat_model and chat otherwise (src/chatref/llm/families.py uses the same name prefixes)."
  }
}

variable "embedding_model" {
  type = object({
    name            = string
    version         = string
    deployment_name = string
    sku_name        = optional(string, "GlobalStandard")
    capacity        = optional(number, 30)
  })
  description = "Embedding model deployed in every account; checked against model-catalogue.json like chat_model."
  default = {
    name            = "text-embedding-3-small"
    version         = "1"
    deployment_name = "embedding"
  }
}

variable "version_upgrade_option" {
  type        = string
  description = "What Azure does when a deployed model version retires: OnceCurrentVersionExpired (default) upgrades it then, so the chat keeps answering; the policy warns 90 days before a retirement so the upgrade is normally made here first, deliberately. NoAutoUpgrade stops the deployment at retirement; OnceNewDefaultVersionAvailable follows every new default."
  default     = "OnceCurrentVersionExpired"

  validation {
    condition     = contains(["OnceCurrentVersionExpired", "OnceNewDefaultVersionAvailable", "NoAutoUpgrade"], var.version_upgrade_option)
    error_message = "version_upgrade_option must be OnceCurrentVersionExpired, OnceNewDefaultVersionAvailable or NoAutoUpgrade."
  }
}

variable "provisioned_throughput" {
  type = object({
    enabled  = bool
    account  = optional(string, "")
    capacity = optional(number, 50)
  })
  description = "Optional provisioned-throughput (PTU) chat deployment in one account; the router tries it first."
  default     = { enabled = false }

  validation {
    condition     = !var.provisioned_throughput.enabled || contains(keys(var.accounts), var.provisioned_throughput.account)
    error_message = "provisioned_throughput.account must be one of the keys of accounts when enabled."
  }
}

variable "content_filter_severity_threshold" {
  type        = string
  description = "Content filter threshold for hate, sexual, self-harm and violence, on prompts and completions."
  default     = "Medium"

  validation {
    condition     = contains(["Low", "Medium", "High"], var.content_filter_severity_threshold)
    error_message = "content_filter_severity_threshold must be Low, Medium or High."
  }
}

variable "local_auth_enabled" {
  type        = bool
  description = "API-key authentication; off means Entra ID (managed identity) only."
  default     = false
}

variable "public_network_access_enabled" {
  type        = bool
  description = "Public network access; off means private endpoints only."
  default     = false
}

variable "network_default_action" {
  type        = string
  description = "Firewall default action when public access is on, Deny or Allow."
  default     = "Deny"

  validation {
    condition     = contains(["Allow", "Deny"], var.network_default_action)
    error_message = "network_default_action must be Allow or Deny."
  }
}

variable "trusted_ip_ranges" {
  type        = list(string)
  description = "Public IP ranges allowed through the firewall."
  default     = []
}

variable "outbound_network_access_restricted" {
  type        = bool
  description = "Restrict the accounts' outbound calls to allowed_outbound_fqdns (data exfiltration guard)."
  default     = true
}

variable "allowed_outbound_fqdns" {
  type        = list(string)
  description = "FQDNs the accounts may call when outbound access is restricted."
  default     = []
}

variable "customer_managed_key_enabled" {
  type        = bool
  description = "Encrypt each account with the key customer_managed_keys gives for it."
  default     = true
}

variable "customer_managed_keys" {
  type = map(object({
    key_vault_id     = string
    key_vault_key_id = string
  }))
  description = "Per account key (the keys of accounts): the Key Vault in that account's region and a versionless RSA 2048 key in it. The account's system-assigned identity is granted Key Vault Crypto Service Encryption User on that vault."
  default     = {}

  validation {
    condition     = !var.customer_managed_key_enabled || toset(keys(var.customer_managed_keys)) == toset(keys(var.accounts))
    error_message = "customer_managed_keys needs one entry per account (same keys as accounts) when customer_managed_key_enabled is true."
  }
}

variable "role_propagation_wait" {
  type        = string
  description = "How long to wait after granting the accounts' identities their key role before attaching the key."
  default     = "60s"
}
