import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { data, redirect } from "@remix-run/node";
import { Form, Link, useActionData, useNavigation } from "@remix-run/react";
import { AuthCard, FormError } from "~/components/auth-card";
import { CsrfInput } from "~/components/csrf-input";
import { FormField } from "~/components/form-field";
import { prisma } from "~/db.server";
import { fieldErrorsFrom } from "~/lib/form";
import { SignupSchema, signUp } from "~/services/auth/accounts.server";
import { requireValidCsrf } from "~/services/auth/csrf.server";
import { getSessionUser, startUserSession } from "~/services/auth/session.server";

export const meta: MetaFunction = () => [{ title: "Sign up · Echo" }];

export async function loader({ request }: LoaderFunctionArgs) {
  if (await getSessionUser(request)) throw redirect("/dashboard");
  return null;
}

export async function action({ request }: ActionFunctionArgs) {
  const formData = await request.formData();
  await requireValidCsrf(request, formData);
  const values = { name: String(formData.get("name") ?? ""), email: String(formData.get("email") ?? "") };
  const parsed = SignupSchema.safeParse({ ...values, password: formData.get("password") });
  if (!parsed.success) {
    return data({ values, fieldErrors: fieldErrorsFrom(parsed.error), formError: undefined }, { status: 400 });
  }
  const result = await signUp(prisma, parsed.data);
  if (!result.ok) {
    return data(
      { values, fieldErrors: result.fieldErrors ?? {}, formError: result.formError },
      { status: result.status },
    );
  }
  return startUserSession(request, result.userId, "/dashboard");
}

export default function SignupPage() {
  const actionData = useActionData<typeof action>();
  const navigation = useNavigation();
  const errors: Record<string, string | undefined> = actionData?.fieldErrors ?? {};
  return (
    <AuthCard
      title="Create your account"
      footer={
        <>
          Already have an account?{" "}
          <Link to="/login" className="text-indigo-600 underline">
            Log in
          </Link>
        </>
      }
    >
      <Form method="post" className="space-y-4" noValidate>
        <CsrfInput />
        <FormError message={actionData?.formError} />
        <FormField
          label="Name"
          name="name"
          autoComplete="name"
          defaultValue={actionData?.values.name}
          error={errors.name}
        />
        <FormField
          label="Email"
          name="email"
          type="email"
          autoComplete="email"
          defaultValue={actionData?.values.email}
          error={errors.email}
        />
        <FormField
          label="Password"
          name="password"
          type="password"
          autoComplete="new-password"
          error={errors.password}
          hint="At least 10 characters."
        />
        <button
          type="submit"
          disabled={navigation.state === "submitting"}
          className="w-full rounded-md bg-indigo-600 px-4 py-2 font-medium text-white hover:bg-indigo-500 disabled:opacity-60"
        >
          Sign up
        </button>
      </Form>
    </AuthCard>
  );
}
