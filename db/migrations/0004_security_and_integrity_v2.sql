CREATE TABLE "gate_evaluation_days" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "gate_evaluation_days_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"gate_id" bigint NOT NULL,
	"service_id" bigint NOT NULL,
	"environment" text NOT NULL,
	"day" date NOT NULL,
	"decision" text NOT NULL,
	"evaluations" integer NOT NULL,
	"allowed" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sessions" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "sessions_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"token_id" bigint,
	"admin_token_hash" text,
	"session_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"revoked_at" timestamp with time zone
);
--> statement-breakpoint
DROP INDEX "deliveries_source_delivery_id_key";--> statement-breakpoint
ALTER TABLE "gate_protection_requests" ADD COLUMN "repository" text;--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "body_bytes" "bytea";--> statement-breakpoint
ALTER TABLE "services" ADD COLUMN "auto_created_by" text;--> statement-breakpoint
ALTER TABLE "gate_evaluation_days" ADD CONSTRAINT "gate_evaluation_days_gate_id_gates_id_fk" FOREIGN KEY ("gate_id") REFERENCES "public"."gates"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "gate_evaluation_days" ADD CONSTRAINT "gate_evaluation_days_service_id_services_id_fk" FOREIGN KEY ("service_id") REFERENCES "public"."services"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_token_id_api_tokens_id_fk" FOREIGN KEY ("token_id") REFERENCES "public"."api_tokens"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "gate_evaluation_days_key" ON "gate_evaluation_days" USING btree ("gate_id","service_id","environment","day","decision");--> statement-breakpoint
CREATE UNIQUE INDEX "sessions_hash_key" ON "sessions" USING btree ("session_hash");--> statement-breakpoint
CREATE INDEX "sessions_token_idx" ON "sessions" USING btree ("token_id");--> statement-breakpoint
CREATE UNIQUE INDEX "deliveries_integration_delivery_id_key" ON "deliveries" USING btree ("integration_id","delivery_id");--> statement-breakpoint
CREATE INDEX "services_auto_created_by_idx" ON "services" USING btree ("auto_created_by") WHERE "services"."auto_created_by" is not null;