CREATE TABLE "changes" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "changes_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"repository_id" bigint NOT NULL,
	"sha" text NOT NULL,
	"committed_at" timestamp with time zone,
	"authored_at" timestamp with time zone,
	"author" text,
	"message" text,
	"branch" text,
	"files" text[],
	"parents" text[] DEFAULT '{}'::text[] NOT NULL,
	"pr_number" integer,
	"pr_opened_at" timestamp with time zone,
	"pr_merged_at" timestamp with time zone,
	"pr_first_commit_at" timestamp with time zone,
	"pr_url" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "deployment_changes" (
	"deployment_id" bigint NOT NULL,
	"service_id" bigint NOT NULL,
	"sha" text NOT NULL,
	"repository_id" bigint,
	"finished_at" timestamp with time zone NOT NULL,
	"in_scope" boolean DEFAULT true NOT NULL,
	"committed_at" timestamp with time zone,
	"pr_number" integer,
	"pr_first_commit_at" timestamp with time zone,
	"pr_opened_at" timestamp with time zone,
	"pr_merged_at" timestamp with time zone,
	"lead_time_seconds" double precision GENERATED ALWAYS AS (date_part('epoch', finished_at - committed_at)) STORED,
	"pr_coding_seconds" double precision GENERATED ALWAYS AS (date_part('epoch', pr_opened_at - pr_first_commit_at)) STORED,
	"pr_review_seconds" double precision GENERATED ALWAYS AS (date_part('epoch', pr_merged_at - pr_opened_at)) STORED,
	"pr_deploy_seconds" double precision GENERATED ALWAYS AS (date_part('epoch', finished_at - pr_merged_at)) STORED,
	CONSTRAINT "deployment_changes_deployment_id_sha_pk" PRIMARY KEY("deployment_id","sha")
);
--> statement-breakpoint
CREATE TABLE "deployments" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "deployments_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"service_id" bigint NOT NULL,
	"environment" text NOT NULL,
	"sha" text NOT NULL,
	"status" text NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"source" text DEFAULT 'api' NOT NULL,
	"external_id" text NOT NULL,
	"url" text,
	"branch" text,
	"rollback" boolean DEFAULT false NOT NULL,
	"hotfix" boolean DEFAULT false NOT NULL,
	"fixes_ref" jsonb,
	"marked_failed" boolean DEFAULT false NOT NULL,
	"explicit_commits" text[],
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"is_production" boolean DEFAULT false NOT NULL,
	"baseline" boolean DEFAULT false NOT NULL,
	"fixes_deployment_id" bigint,
	"rolled_back_by" bigint,
	"fixed_by" bigint,
	"failed" boolean DEFAULT false NOT NULL,
	"failure_reasons" text[] DEFAULT '{}'::text[] NOT NULL,
	"recovered_at" timestamp with time zone,
	"rework" boolean DEFAULT false NOT NULL,
	"rework_reasons" text[] DEFAULT '{}'::text[] NOT NULL
);
--> statement-breakpoint
CREATE TABLE "derivation_queue" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "derivation_queue_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"service_id" bigint NOT NULL,
	"kind" text NOT NULL,
	"deployment_id" bigint,
	"before" jsonb,
	"repository_id" bigint,
	"sha" text,
	"incident_id" bigint,
	"previous_deployment_id" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "dora_gauges" (
	"id" integer PRIMARY KEY NOT NULL,
	"computed_at" timestamp with time zone NOT NULL,
	"values" jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "gate_evaluations" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "gate_evaluations_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"gate_id" bigint NOT NULL,
	"service_id" bigint NOT NULL,
	"environment" text NOT NULL,
	"sha" text,
	"decision" text NOT NULL,
	"allow" boolean NOT NULL,
	"enforced" boolean NOT NULL,
	"rules" jsonb NOT NULL,
	"inputs" jsonb NOT NULL,
	"override_id" bigint,
	"caller" text NOT NULL,
	"caller_token_id" bigint,
	"retry_after_seconds" bigint,
	"evaluated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "gate_overrides" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "gate_overrides_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"gate_id" bigint NOT NULL,
	"service_id" bigint NOT NULL,
	"sha" text,
	"reason" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "gate_protection_requests" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "gate_protection_requests_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"service_id" bigint NOT NULL,
	"environment" text NOT NULL,
	"sha" text,
	"callback_url" text NOT NULL,
	"installation_id" bigint,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone NOT NULL,
	"last_comment" text,
	"last_error" text,
	"evaluation_ids" bigint[] DEFAULT '{}'::bigint[] NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	"decided_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "gates" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "gates_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"slug" text NOT NULL,
	"name" text NOT NULL,
	"applies_to" jsonb NOT NULL,
	"mode" text DEFAULT 'enforce' NOT NULL,
	"rules" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "incidents" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "incidents_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"service_id" bigint NOT NULL,
	"external_id" text NOT NULL,
	"source" text DEFAULT 'api' NOT NULL,
	"title" text,
	"severity" text,
	"url" text,
	"started_at" timestamp with time zone NOT NULL,
	"resolved_at" timestamp with time zone,
	"cause_deployment_id" bigint,
	"cause_sha" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deployment_id" bigint
);
--> statement-breakpoint
CREATE TABLE "api_tokens" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "api_tokens_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"name" text NOT NULL,
	"scopes" text[] NOT NULL,
	"team_id" bigint,
	"token_hash" text NOT NULL,
	"prefix" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "deliveries" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "deliveries_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"integration_id" text NOT NULL,
	"source" text NOT NULL,
	"delivery_id" text NOT NULL,
	"event" text,
	"headers" jsonb NOT NULL,
	"body" text,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"status" text DEFAULT 'received' NOT NULL,
	"error" text,
	"events" jsonb,
	"processed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "integrations" (
	"id" text PRIMARY KEY NOT NULL,
	"source" text NOT NULL,
	"name" text NOT NULL,
	"secrets" text[] NOT NULL,
	"settings" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_delivery_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "repositories" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "repositories_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"name" text NOT NULL,
	"provider" text DEFAULT 'git' NOT NULL,
	"url" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "service_repositories" (
	"service_id" bigint NOT NULL,
	"repository_id" bigint NOT NULL,
	"path_prefix" text DEFAULT '' NOT NULL,
	CONSTRAINT "service_repositories_service_id_repository_id_path_prefix_pk" PRIMARY KEY("service_id","repository_id","path_prefix")
);
--> statement-breakpoint
CREATE TABLE "services" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "services_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"slug" text NOT NULL,
	"name" text NOT NULL,
	"team_id" bigint,
	"production_pattern" text DEFAULT '^(prod|production)$' NOT NULL,
	"deployment_pattern" text DEFAULT 'deploy' NOT NULL,
	"attribution_window_seconds" integer DEFAULT 604800 NOT NULL,
	"aliases" text[] DEFAULT '{}'::text[] NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "teams" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "teams_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"slug" text NOT NULL,
	"name" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "changes" ADD CONSTRAINT "changes_repository_id_repositories_id_fk" FOREIGN KEY ("repository_id") REFERENCES "public"."repositories"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deployment_changes" ADD CONSTRAINT "deployment_changes_deployment_id_deployments_id_fk" FOREIGN KEY ("deployment_id") REFERENCES "public"."deployments"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deployments" ADD CONSTRAINT "deployments_service_id_services_id_fk" FOREIGN KEY ("service_id") REFERENCES "public"."services"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "derivation_queue" ADD CONSTRAINT "derivation_queue_service_id_services_id_fk" FOREIGN KEY ("service_id") REFERENCES "public"."services"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "gate_evaluations" ADD CONSTRAINT "gate_evaluations_gate_id_gates_id_fk" FOREIGN KEY ("gate_id") REFERENCES "public"."gates"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "gate_evaluations" ADD CONSTRAINT "gate_evaluations_service_id_services_id_fk" FOREIGN KEY ("service_id") REFERENCES "public"."services"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "gate_overrides" ADD CONSTRAINT "gate_overrides_gate_id_gates_id_fk" FOREIGN KEY ("gate_id") REFERENCES "public"."gates"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "gate_overrides" ADD CONSTRAINT "gate_overrides_service_id_services_id_fk" FOREIGN KEY ("service_id") REFERENCES "public"."services"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "gate_protection_requests" ADD CONSTRAINT "gate_protection_requests_service_id_services_id_fk" FOREIGN KEY ("service_id") REFERENCES "public"."services"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "incidents" ADD CONSTRAINT "incidents_service_id_services_id_fk" FOREIGN KEY ("service_id") REFERENCES "public"."services"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deliveries" ADD CONSTRAINT "deliveries_integration_id_integrations_id_fk" FOREIGN KEY ("integration_id") REFERENCES "public"."integrations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "service_repositories" ADD CONSTRAINT "service_repositories_service_id_services_id_fk" FOREIGN KEY ("service_id") REFERENCES "public"."services"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "service_repositories" ADD CONSTRAINT "service_repositories_repository_id_repositories_id_fk" FOREIGN KEY ("repository_id") REFERENCES "public"."repositories"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "services" ADD CONSTRAINT "services_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "changes_repository_sha_key" ON "changes" USING btree ("repository_id","sha");--> statement-breakpoint
CREATE INDEX "changes_sha_idx" ON "changes" USING btree ("sha");--> statement-breakpoint
CREATE INDEX "changes_committed_at_idx" ON "changes" USING btree ("committed_at");--> statement-breakpoint
CREATE INDEX "deployment_changes_lead_time_idx" ON "deployment_changes" USING btree ("service_id","finished_at","lead_time_seconds","deployment_id") WHERE "deployment_changes"."in_scope" and "deployment_changes"."committed_at" is not null;--> statement-breakpoint
CREATE INDEX "deployment_changes_pull_requests_idx" ON "deployment_changes" USING btree ("service_id","finished_at","pr_coding_seconds","pr_review_seconds","pr_deploy_seconds","deployment_id") WHERE "deployment_changes"."in_scope" and "deployment_changes"."committed_at" is not null and "deployment_changes"."pr_number" is not null;--> statement-breakpoint
CREATE INDEX "deployment_changes_service_sha_idx" ON "deployment_changes" USING btree ("service_id","sha","finished_at");--> statement-breakpoint
CREATE INDEX "deployment_changes_sha_idx" ON "deployment_changes" USING btree ("sha");--> statement-breakpoint
CREATE UNIQUE INDEX "deployments_service_external_id_key" ON "deployments" USING btree ("service_id","external_id");--> statement-breakpoint
CREATE INDEX "deployments_service_finished_idx" ON "deployments" USING btree ("service_id","finished_at","id");--> statement-breakpoint
CREATE INDEX "deployments_production_finished_idx" ON "deployments" USING btree ("finished_at","service_id") WHERE "deployments"."is_production";--> statement-breakpoint
CREATE INDEX "deployments_service_sha_idx" ON "deployments" USING btree ("service_id","sha");--> statement-breakpoint
CREATE INDEX "deployments_production_stats_idx" ON "deployments" USING btree ("service_id","finished_at","failed","rework","recovered_at") WHERE "deployments"."is_production";--> statement-breakpoint
CREATE INDEX "deployments_baseline_idx" ON "deployments" USING btree ("service_id") WHERE "deployments"."baseline";--> statement-breakpoint
CREATE INDEX "derivation_queue_service_idx" ON "derivation_queue" USING btree ("service_id","id");--> statement-breakpoint
CREATE INDEX "derivation_queue_deployment_idx" ON "derivation_queue" USING btree ("deployment_id");--> statement-breakpoint
CREATE INDEX "derivation_queue_incident_idx" ON "derivation_queue" USING btree ("incident_id");--> statement-breakpoint
CREATE INDEX "gate_evaluations_gate_idx" ON "gate_evaluations" USING btree ("gate_id","evaluated_at");--> statement-breakpoint
CREATE INDEX "gate_evaluations_gate_id_idx" ON "gate_evaluations" USING btree ("gate_id","id");--> statement-breakpoint
CREATE INDEX "gate_overrides_lookup_idx" ON "gate_overrides" USING btree ("gate_id","service_id","expires_at");--> statement-breakpoint
CREATE UNIQUE INDEX "gate_protection_requests_callback_key" ON "gate_protection_requests" USING btree ("callback_url","environment");--> statement-breakpoint
CREATE INDEX "gate_protection_requests_due_idx" ON "gate_protection_requests" USING btree ("next_attempt_at") WHERE "gate_protection_requests"."status" = 'pending';--> statement-breakpoint
CREATE UNIQUE INDEX "gates_slug_key" ON "gates" USING btree ("slug");--> statement-breakpoint
CREATE UNIQUE INDEX "incidents_service_external_id_key" ON "incidents" USING btree ("service_id","external_id");--> statement-breakpoint
CREATE INDEX "incidents_service_started_idx" ON "incidents" USING btree ("service_id","started_at");--> statement-breakpoint
CREATE INDEX "incidents_resolved_idx" ON "incidents" USING btree ("resolved_at");--> statement-breakpoint
CREATE INDEX "incidents_deployment_idx" ON "incidents" USING btree ("deployment_id");--> statement-breakpoint
CREATE UNIQUE INDEX "api_tokens_hash_key" ON "api_tokens" USING btree ("token_hash");--> statement-breakpoint
CREATE INDEX "api_tokens_team_idx" ON "api_tokens" USING btree ("team_id");--> statement-breakpoint
CREATE UNIQUE INDEX "deliveries_source_delivery_id_key" ON "deliveries" USING btree ("source","delivery_id");--> statement-breakpoint
CREATE INDEX "deliveries_received_idx" ON "deliveries" USING btree ("received_at");--> statement-breakpoint
CREATE INDEX "deliveries_status_idx" ON "deliveries" USING btree ("status","received_at");--> statement-breakpoint
CREATE UNIQUE INDEX "repositories_name_key" ON "repositories" USING btree ("name");--> statement-breakpoint
CREATE INDEX "service_repositories_repository_idx" ON "service_repositories" USING btree ("repository_id");--> statement-breakpoint
CREATE UNIQUE INDEX "services_slug_key" ON "services" USING btree ("slug");--> statement-breakpoint
CREATE INDEX "services_team_idx" ON "services" USING btree ("team_id");--> statement-breakpoint
CREATE INDEX "services_aliases_idx" ON "services" USING gin ("aliases");--> statement-breakpoint
CREATE UNIQUE INDEX "teams_slug_key" ON "teams" USING btree ("slug");